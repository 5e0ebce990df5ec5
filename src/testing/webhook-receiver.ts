import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  /** The body exactly as sent: what signatures are computed over. */
  rawBody: string;
  headers: Record<string, string>;
  /** Parsed body, not verified: verify `rawBody` with your SDK before trusting it. */
  body: { data?: { event_type?: string; id?: string; payload?: Record<string, unknown> }; meta?: Record<string, unknown> };
  receivedAt: number;
}

/**
 * A webhook endpoint for tests: records every delivery and answers 200, or the statuses it is told to.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private server: Server | null = null;
  private port = 0;
  private scriptedStatuses: number[] = [];
  private defaultStatus = 200;
  private waiters: { predicate: (w: ReceivedWebhook) => boolean; resolve: (w: ReceivedWebhook) => void }[] = [];

  get url(): string {
    return `http://127.0.0.1:${this.port}/webhooks`;
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = this.scriptedStatuses.shift() ?? this.defaultStatus;
        const rawBody = Buffer.concat(chunks).toString('utf8');
        res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
        if (status >= 200 && status < 300) this.record(rawBody, req.headers);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** The next `count` deliveries get `status` (and are not recorded when it is not 2xx). */
  respondWith(status: number, count = 1): void {
    for (let i = 0; i < count; i++) this.scriptedStatuses.push(status);
  }

  /** The status every delivery gets from now on, unless one was scripted with respondWith. */
  setDefaultStatus(status: number): void {
    this.defaultStatus = status;
  }

  /** Event types received so far, in arrival order, optionally for one leg. */
  eventTypes(callControlId?: string): string[] {
    return this.received
      .filter((w) => !callControlId || w.body.data?.payload?.['call_control_id'] === callControlId)
      .map((w) => w.body.data?.event_type ?? '');
  }

  /** Resolves with the first delivery (already received or future) that matches. */
  waitFor(predicate: (w: ReceivedWebhook) => boolean, timeoutMs = 5000): Promise<ReceivedWebhook> {
    const found = this.received.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = { predicate, resolve: (w: ReceivedWebhook) => { clearTimeout(timer); resolve(w); } };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== waiter);
        reject(new Error(`no matching webhook within ${timeoutMs} ms; received: ${this.eventTypes().join(', ') || 'none'}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Waits for an event of this type, for this leg when given. */
  waitForEvent(eventType: string, callControlId?: string, timeoutMs?: number): Promise<ReceivedWebhook> {
    return this.waitFor((w) => w.body.data?.event_type === eventType
      && (!callControlId || w.body.data?.payload?.['call_control_id'] === callControlId), timeoutMs);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private record(rawBody: string, headers: IncomingHttpHeaders): void {
    let body: ReceivedWebhook['body'] = {};
    try {
      body = JSON.parse(rawBody) as ReceivedWebhook['body'];
    } catch {
      // Kept raw: a test may be checking exactly this.
    }
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') flat[k] = v;
    const webhook = { rawBody, headers: flat, body, receivedAt: Date.now() };
    this.received.push(webhook);
    for (const waiter of [...this.waiters]) {
      if (waiter.predicate(webhook)) {
        this.waiters = this.waiters.filter((x) => x !== waiter);
        waiter.resolve(webhook);
      }
    }
  }
}
