import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { defaultConfig, type Config, type ConfigOverrides } from '../config/config.js';
import { parseWav } from '../media/audio/wav.js';
import { toEngineFormat } from '../media/audio/resample.js';
import { startServer, type ServerOptions, type Switchboard } from '../server.js';

export interface TestSwitchboardOptions extends ServerOptions {
  /** Keep using this data directory (e.g. across a restart); otherwise a fresh temporary one. */
  dataDir?: string;
  /** SIP is off unless `config.sip` turns it on (then on free ports by default). */
  config?: ConfigOverrides;
}

/** What placing a call returns; fetch the whole call, log included, with `virtualCall(id)`. */
export interface PlacedCall {
  id: string;
  call_control_id: string;
  state: 'ringing' | 'answered' | 'ended';
}

export interface VirtualCallData {
  id: string;
  call_control_id: string;
  direction: 'outbound' | 'inbound';
  from: string;
  to: string;
  state: 'ringing' | 'answered' | 'ended';
  hangup_cause: string | null;
  log: { at: string; event: string; [k: string]: unknown }[];
}

/**
 * A Switchboard for tests: on a random loopback port, with a fresh data directory and API key,
 * and small helpers over the `/switchboard/v1` testing API.
 */
export class TestSwitchboard {
  private constructor(readonly server: Switchboard, readonly dataDir: string, private readonly ownsDataDir: boolean) {}

  static async start(options: TestSwitchboardOptions = {}): Promise<TestSwitchboard> {
    const ownsDataDir = !options.dataDir;
    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'switchboard-test-'));
    const config: Config = {
      ...defaultConfig,
      host: '127.0.0.1',
      port: 0,
      dataDir,
      apiKeys: [`KEY${randomBytes(16).toString('hex')}`],
      ...options.config,
      webhooks: { ...defaultConfig.webhooks, baseDelayMs: 200, maxDelayMs: 1000, ...options.config?.webhooks },
      sip: options.config?.sip
        ? { ...defaultConfig.sip, host: '127.0.0.1', port: 0, ...options.config.sip }
        : { ...defaultConfig.sip, enabled: false },
      speech: { ...defaultConfig.speech, ...options.config?.speech },
      ai: { ...defaultConfig.ai, ...options.config?.ai, llm: options.config?.ai?.llm ?? null },
      // Tests drive the API hard; a test of rate limiting sets its own.
      rateLimit: options.config?.rateLimit ?? null,
    };
    const server = await startServer(config, options);
    return new TestSwitchboard(server, dataDir, ownsDataDir);
  }

  /** What `new Telnyx({ baseURL })` takes. */
  get baseURL(): string {
    return `${this.server.url}/v2`;
  }

  get apiKey(): string {
    return this.server.apiKeys[0] as string;
  }

  get publicKey(): string {
    return this.server.publicKey;
  }

  /** Creates a Call Control Application whose webhooks go to `webhookUrl`, and routes `numbers` to it. */
  async createApplication(webhookUrl: string, numbers: string[] = [], name = 'test-app'): Promise<string> {
    const app = await this.request<{ id: string }>('POST', '/v2/call_control_applications', {
      application_name: name, webhook_event_url: webhookUrl,
    });
    for (const number of numbers) await this.request('POST', '/switchboard/v1/numbers', { number, connection_id: app.id });
    return app.id;
  }

  /** A virtual phone calls `to`; the call is routed like any inbound call. */
  placeCall(from: string, to: string, connectionId?: string): Promise<PlacedCall> {
    return this.request('POST', '/switchboard/v1/virtual_calls', { from, to, ...(connectionId ? { connection_id: connectionId } : {}) });
  }

  /** A phone that outbound `dial` reaches. */
  addPhone(number: string, answer: 'auto' | 'never' | 'busy' | 'reject' = 'auto', answerDelayMs = 0): Promise<unknown> {
    return this.request('POST', '/switchboard/v1/virtual_phones', { number, answer, answer_delay_ms: answerDelayMs });
  }

  virtualCall(id: string): Promise<VirtualCallData> {
    return this.request('GET', `/switchboard/v1/virtual_calls/${id}`);
  }

  /** The virtual calls a number took part in (e.g. those an app dialled). */
  virtualCalls(number: string): Promise<VirtualCallData[]> {
    return this.request('GET', `/switchboard/v1/virtual_calls?number=${encodeURIComponent(number)}`);
  }

  pressDigits(id: string, digits: string, durationMs = 100, gapMs = 100): Promise<unknown> {
    return this.request('POST', `/switchboard/v1/virtual_calls/${id}/actions/send_dtmf`, { digits, duration_ms: durationMs, gap_ms: gapMs });
  }

  answer(id: string): Promise<unknown> {
    return this.request('POST', `/switchboard/v1/virtual_calls/${id}/actions/answer`, {});
  }

  hangup(id: string): Promise<unknown> {
    return this.request('POST', `/switchboard/v1/virtual_calls/${id}/actions/hangup`, {});
  }

  /** The phone sends audio into the call: `{ audio_url }`, `{ media_name }` or `{ playback_content, audio_type }`. */
  sendAudio(id: string, source: Record<string, string>): Promise<unknown> {
    return this.request('POST', `/switchboard/v1/virtual_calls/${id}/actions/play`, source);
  }

  /** The phone's user says `text` (synthesised speech sent into the call). */
  say(id: string, text: string, voice = 'female', language?: string): Promise<unknown> {
    return this.request('POST', `/switchboard/v1/virtual_calls/${id}/actions/speak`, { text, voice, ...(language ? { language } : {}) });
  }

  /** What a virtual call heard since it was answered: 8 kHz mono 16-bit PCM. */
  async heardAudio(id: string): Promise<Int16Array> {
    const res = await fetch(`${this.server.url}/switchboard/v1/virtual_calls/${id}/audio`, { headers: { authorization: `Bearer ${this.apiKey}` } });
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (!res.ok) throw new Error(`GET audio of ${id} → ${res.status} ${Buffer.from(bytes).toString()}`);
    const wav = parseWav(bytes);
    return toEngineFormat(wav.samples, wav.sampleRate);
  }

  /** Calls the API with this server's key and returns `data`; throws on any non-2xx. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
    return (JSON.parse(text) as { data: T }).data;
  }

  async close(): Promise<void> {
    await this.server.close();
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
