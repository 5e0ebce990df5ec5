import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Telnyx from 'telnyx';

/**
 * An account-number IVR written against the official `telnyx` SDK only: it answers incoming calls,
 * gathers an account number with DTMF, re-prompts on bad or missing input, and hangs up.
 * Nothing in here knows whether the API behind `client` is Telnyx or Switchboard.
 */

export type IvrLog = (level: 'info' | 'error', message: string, fields?: Record<string, unknown>) => void;

export interface IvrOptions {
  client: Telnyx;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** Gather attempts per call before giving up, the first included. Default 3. */
  maxAttempts?: number;
  log?: IvrLog;
}

/** A command the IVR sent, recorded once the API has answered it. */
export interface IvrCommand {
  callControlId: string;
  command: 'answer' | 'gather' | 'hangup';
  /** For gather: which attempt this is, from 1. */
  attempt?: number;
  ok: boolean;
}

export interface IvrApp {
  /** The webhook URL to give the Call Control Application. */
  readonly url: string;
  /** call_control_id → the account number the caller entered. */
  readonly accounts: ReadonlyMap<string, string>;
  readonly commands: readonly IvrCommand[];
  /** Settles when every command started so far has been answered. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** What the IVR reads from a verified webhook. */
interface CallEvent {
  id: string;
  eventType: string;
  payload: Record<string, unknown>;
}

/** Where a call is in the menu; carried in client_state so it comes back on the next webhook. */
type Step = { step: 'welcome' } | { step: 'account'; attempt: number };

const MAX_BODY_BYTES = 1024 * 1024;

const ACCOUNT_GATHER = {
  minimum_digits: 4,
  maximum_digits: 12,
  terminating_digit: '#',
  valid_digits: '0123456789#',
  initial_timeout_millis: 10_000,
  inter_digit_timeout_millis: 5_000,
} as const;

export async function createIvrApp(options: IvrOptions): Promise<IvrApp> {
  const { client } = options;
  const maxAttempts = options.maxAttempts ?? 3;
  const host = options.host ?? '127.0.0.1';
  const log: IvrLog = options.log ?? defaultLog;
  const accounts = new Map<string, string>();
  const commands: IvrCommand[] = [];
  const inFlight = new Set<Promise<void>>();

  /** Runs one SDK command after the webhook has been answered; a failure is logged, never thrown. */
  const send = (record: Omit<IvrCommand, 'ok'>, run: () => Promise<unknown>): void => {
    const task = run().then(
      () => { commands.push({ ...record, ok: true }); },
      (err: unknown) => {
        commands.push({ ...record, ok: false });
        log('error', `${record.command} failed`, { call_control_id: record.callControlId, error: errorText(err) });
      },
    );
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
  };

  const gather = (callControlId: string, attempt: number, eventId: string): void => {
    send({ callControlId, command: 'gather', attempt }, () => client.calls.actions.gather(callControlId, {
      ...ACCOUNT_GATHER,
      gather_id: `account-${attempt}`,
      client_state: encodeState({ step: 'account', attempt }),
      // Webhooks arrive at least once; keying the command on the event makes a redelivery harmless.
      command_id: eventId,
    }));
  };

  const hangup = (callControlId: string, eventId: string): void => {
    send({ callControlId, command: 'hangup' }, () => client.calls.actions.hangup(callControlId, { command_id: eventId }));
  };

  const handle = (event: CallEvent): void => {
    const { payload } = event;
    const callControlId = stringField(payload, 'call_control_id');
    if (!callControlId) return;
    // The step travels in client_state, so the IVR keeps no per-call progress of its own.
    const step = decodeState(stringField(payload, 'client_state'));
    switch (event.eventType) {
      case 'call.initiated':
        if (payload['direction'] !== 'incoming') return;
        send({ callControlId, command: 'answer' }, () => client.calls.actions.answer(callControlId, {
          client_state: encodeState({ step: 'welcome' }),
          command_id: event.id,
        }));
        return;
      case 'call.answered':
        // Only calls this IVR answered; an outbound call placed with the same application is not a caller.
        if (step?.step === 'welcome') gather(callControlId, 1, event.id);
        return;
      case 'call.gather.ended': {
        if (step?.step !== 'account') return;
        const status = stringField(payload, 'status');
        if (status === 'valid') {
          const digits = stringField(payload, 'digits') ?? '';
          accounts.set(callControlId, digits);
          log('info', 'account number entered', { call_control_id: callControlId, account: digits });
          hangup(callControlId, event.id);
        } else if (status === 'invalid' || status === 'timeout') {
          if (step.attempt < maxAttempts) gather(callControlId, step.attempt + 1, event.id);
          else {
            log('info', 'no valid account number, giving up', { call_control_id: callControlId, attempts: step.attempt });
            hangup(callControlId, event.id);
          }
        }
        // cancelled and call_hangup need nothing: the gather was replaced, or the caller is gone.
        return;
      }
      case 'call.hangup':
        log('info', 'call ended', { call_control_id: callControlId, hangup_cause: payload['hangup_cause'] });
        return;
      default:
        return;
    }
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/webhooks') {
      res.writeHead(404).end();
      return;
    }
    const rawBody = await readBody(req);
    if (rawBody === null) {
      res.writeHead(413).end();
      return;
    }
    let event: CallEvent | null;
    try {
      // Verify the exact bytes received: re-serialised JSON would not match the signature.
      event = toCallEvent(await client.webhooks.unwrap(rawBody, { headers: flattenHeaders(req.headers) }));
    } catch (err) {
      log('error', 'rejected a webhook that failed verification', { error: errorText(err) });
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid signature"}');
      return;
    }
    // Answer first: Telnyx (and Switchboard) count a slow webhook as failed and send it again.
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    if (event) handle(event);
  };

  const server = createServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      log('error', 'webhook handling failed', { error: errorText(err) });
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;

  const idle = async (): Promise<void> => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };

  return {
    url: `http://${urlHost}:${port}/webhooks`,
    accounts,
    commands,
    idle,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await idle();
    },
  };
}

function defaultLog(level: 'info' | 'error', message: string, fields?: Record<string, unknown>): void {
  const line = `${new Date().toISOString()} ${level} ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`;
  (level === 'error' ? process.stderr : process.stdout).write(line);
}

/** The body as text, or null when it is larger than anything Telnyx sends. */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string') flat[name] = value;
    else if (Array.isArray(value)) flat[name] = value.join(', ');
  }
  return flat;
}

/** Narrows the SDK's union of every Telnyx event to what a call handler reads; other events give null. */
function toCallEvent(unwrapped: unknown): CallEvent | null {
  if (!isRecord(unwrapped)) return null;
  const data = unwrapped['data'];
  if (!isRecord(data)) return null;
  const id = data['id'];
  const eventType = data['event_type'];
  const payload = data['payload'];
  if (typeof id !== 'string' || typeof eventType !== 'string' || !isRecord(payload)) return null;
  return { id, eventType, payload };
}

function encodeState(step: Step): string {
  return Buffer.from(JSON.stringify(step)).toString('base64');
}

function decodeState(clientState: string | undefined): Step | null {
  if (!clientState) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(clientState, 'base64').toString('utf8'));
    if (!isRecord(parsed)) return null;
    if (parsed['step'] === 'welcome') return { step: 'welcome' };
    if (parsed['step'] === 'account' && typeof parsed['attempt'] === 'number') return { step: 'account', attempt: parsed['attempt'] };
  } catch {
    // Someone else's client_state: not ours to interpret.
  }
  return null;
}

function stringField(payload: Record<string, unknown>, name: string): string | undefined {
  const value = payload[name];
  return typeof value === 'string' ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
