import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_END_SILENCE_MS } from '../speech/utterances.js';
import { checkLlmConfig, llmConfigFromEnv, type LlmServerConfig } from '../ai/llm/resolve.js';

/** A Call Control Application as configured in a file; ids are strings of digits, like Telnyx's. */
export interface ConfiguredApplication {
  id: string;
  application_name: string;
  webhook_event_url: string;
  webhook_event_failover_url?: string | null;
  webhook_timeout_secs?: number | null;
}

export interface WebhookDeliveryConfig {
  /** Delivery rounds before an event is given up (each round: primary URL, then failover URL). */
  maxRounds: number;
  /** Back-off before round 2, doubled each round up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Used when an application sets no webhook_timeout_secs. */
  defaultTimeoutMs: number;
}

/** A SIP trunk that E.164 numbers are dialled through. */
export interface SipGatewayConfig {
  host: string;
  /** Default 5060. */
  port?: number;
  /** Default udp. */
  transport?: 'udp' | 'tcp';
  /** Digest credentials, when the trunk challenges. */
  username?: string;
  password?: string;
  /** Host part of the Request-URI and To (`sip:+1555…@domain`); defaults to `host`. */
  domain?: string;
}

export interface SipConfig {
  enabled: boolean;
  /** Address the SIP and RTP sockets bind to. */
  host: string;
  /** Address written in Via, Contact and SDP; by default the bound address, or the first external IPv4. */
  advertisedHost: string | null;
  /** UDP and TCP port; 0 picks free ports (tests). */
  port: number;
  /** RTP ports, one per leg, taken from this range. */
  rtpPortMin: number;
  rtpPortMax: number;
  gateway: SipGatewayConfig | null;
  /** When set, incoming INVITEs must carry digest credentials of one of these users. */
  inboundAuth: { realm: string; users: Record<string, string> } | null;
  /** Listen for DTMF tones in the audio as well as RFC 4733 events. */
  inbandDtmf: boolean;
  /**
   * Run the RTP sockets on a thread of their own, so their system calls use another core and
   * stay out of the way of signalling (on by default where there are two cores or more; off
   * keeps everything on one thread).
   */
  rtpThread: boolean;
  /**
   * With `rtpThread`: how long after its tick is due a 20 ms packet leaves. It is the margin the
   * media pass has before its lateness shows on the wire, and it adds as much to the audio's delay.
   */
  rtpSendDelayMs: number;
  /**
   * With `rtpThread`: the RTP thread's nice value (-20 to 19; lower runs first), or null to
   * leave it. Raising priority needs root or CAP_SYS_NICE; without, the thread keeps its own.
   * Default -20: the thread only moves packets, and on busy cores a lesser priority lets other
   * threads cut into its sends.
   */
  rtpThreadNice: number | null;
}

/** An OpenAI-compatible `/v1/audio/speech` server that speaks some voice families. */
export interface SpeechProviderConfig {
  /** Voice families it speaks (`telnyx`, `polly`, `azure`, `elevenlabs`, …), or `*` for all. */
  families: string[];
  baseUrl: string;
  apiKey?: string;
  model?: string;
  /** Requested voice (whole string or id) → the server's voice name. */
  voices?: Record<string, string>;
  /** Languages it speaks; absent means any. */
  languages?: string[];
  timeoutMs?: number;
}

/** An OpenAI-compatible `/v1/audio/transcriptions` server (OpenAI, whisper.cpp, faster-whisper). */
export interface TranscriptionServerConfig {
  baseUrl: string;
  apiKey?: string;
  model: string;
  timeoutMs?: number;
}

export interface SpeechConfig {
  /** Use the Debian espeak-ng command, when installed, for languages flite cannot speak. */
  espeak: boolean;
  /** Use the Debian pocketsphinx command, when installed, to transcribe English. */
  pocketsphinx: boolean;
  /** Tried first for transcription, for the languages it takes. */
  transcriptionServer: TranscriptionServerConfig | null;
  providers: SpeechProviderConfig[];
  /** Budget for synthesised audio kept for reuse. */
  cacheBytes: number;
}

/** Language models for AI conversations (see src/ai/llm/resolve.ts for every field). */
export interface AiConfig {
  llm: LlmServerConfig | null;
  /**
   * Silence after a caller's speech that ends their turn in AI conversations (endpointing).
   * Shorter answers sooner; longer lets callers pause mid-sentence without being cut off.
   */
  endOfTurnSilenceMs: number;
}

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** Accepted API keys. When empty, a key is generated on first start and kept in the data directory. */
  apiKeys: string[];
  applications: ConfiguredApplication[];
  /** Called number → application id, for inbound routing. */
  numbers: Record<string, string>;
  webhooks: WebhookDeliveryConfig;
  /** Where the API can be reached, for the hints printed at start (defaults to http://host:port). */
  publicBaseUrl: string | null;
  sip: SipConfig;
  speech: SpeechConfig;
  ai: AiConfig;
  /** Requests per API key (token bucket); null for no limit. */
  rateLimit: { requestsPerSecond: number; burst: number } | null;
  /**
   * Nice value the `switchboard` command gives its main thread, which runs the media clock as well
   * as the API and signalling (-20 to 19), or null to leave it. Threads started later inherit it.
   * Raising priority needs root or CAP_SYS_NICE; without, the server says so and runs on.
   */
  mediaThreadNice: number | null;
}

function checkNice(name: string, nice: number | null): void {
  if (nice !== null && (!Number.isInteger(nice) || nice < -20 || nice > 19)) {
    throw new ConfigError(`${name} must be an integer from -20 to 19, or null: ${String(nice)}`);
  }
}

/** Two ticks: beyond that the delay costs more than the jitter it hides. */
const MAX_RTP_SEND_DELAY_MS = 40;

export const defaultConfig: Config = {
  host: '0.0.0.0',
  port: 8080,
  dataDir: './data',
  apiKeys: [],
  applications: [],
  numbers: {},
  webhooks: { maxRounds: 6, baseDelayMs: 1000, maxDelayMs: 30_000, defaultTimeoutMs: 10_000 },
  publicBaseUrl: null,
  sip: {
    enabled: true,
    host: '0.0.0.0',
    advertisedHost: null,
    port: 5060,
    rtpPortMin: 10000,
    rtpPortMax: 20000,
    gateway: null,
    inboundAuth: null,
    inbandDtmf: true,
    // A second thread only pays where there is a second core to run it.
    rtpThread: availableParallelism() > 1,
    rtpSendDelayMs: 10,
    rtpThreadNice: -20,
  },
  ai: { llm: null, endOfTurnSilenceMs: DEFAULT_END_SILENCE_MS },
  rateLimit: { requestsPerSecond: 200, burst: 400 },
  mediaThreadNice: -10,
  speech: { espeak: true, pocketsphinx: true, transcriptionServer: null, providers: [], cacheBytes: 64 * 1024 * 1024 },
};

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

/**
 * Configuration = defaults, then the JSON file (SWITCHBOARD_CONFIG, or ./switchboard.json when present),
 * then environment variables, then explicit overrides (used by the in-process harness).
 */
export function loadConfig(env: Env = process.env, overrides: ConfigOverrides = {}): Config {
  const file = env['SWITCHBOARD_CONFIG'] ?? (existsSync('switchboard.json') ? 'switchboard.json' : undefined);
  const fromFile = file ? readConfigFile(resolve(file)) : {};
  const fromEnv: Partial<Config> = {};
  if (env['SWITCHBOARD_HOST']) fromEnv.host = env['SWITCHBOARD_HOST'];
  if (env['SWITCHBOARD_PORT']) fromEnv.port = parsePort(env['SWITCHBOARD_PORT']);
  if (env['SWITCHBOARD_DATA_DIR']) fromEnv.dataDir = env['SWITCHBOARD_DATA_DIR'];
  if (env['SWITCHBOARD_API_KEYS']) fromEnv.apiKeys = env['SWITCHBOARD_API_KEYS'].split(',').map((k) => k.trim()).filter(Boolean);
  if (env['SWITCHBOARD_PUBLIC_BASE_URL']) fromEnv.publicBaseUrl = env['SWITCHBOARD_PUBLIC_BASE_URL'];
  const rate = env['SWITCHBOARD_RATE_LIMIT'];
  if (rate) fromEnv.rateLimit = parseRateLimit(rate);
  const merged: Config = {
    ...defaultConfig,
    ...fromFile,
    ...fromEnv,
    ...overrides,
    webhooks: { ...defaultConfig.webhooks, ...fromFile.webhooks, ...overrides.webhooks },
    sip: { ...defaultConfig.sip, ...fromFile.sip, ...sipFromEnv(env), ...overrides.sip },
    speech: { ...defaultConfig.speech, ...fromFile.speech, ...overrides.speech },
    ai: {
      llm: mergeLlm(fromFile.ai?.llm, llmConfigFromEnv(env), overrides.ai?.llm),
      endOfTurnSilenceMs: overrides.ai?.endOfTurnSilenceMs ?? endOfTurnFromEnv(env) ?? fromFile.ai?.endOfTurnSilenceMs ?? defaultConfig.ai.endOfTurnSilenceMs,
    },
  };
  validateConfig(merged);
  return merged;
}

/** Like Config, with the nested sections partial. */
/** The language model from file, environment and overrides; null when none names a server. */
function mergeLlm(...parts: (Partial<LlmServerConfig> | null | undefined)[]): LlmServerConfig | null {
  const merged: LlmServerConfig = Object.assign({}, ...parts.filter(Boolean));
  return merged.baseUrl ? merged : null;
}

export type ConfigOverrides = Omit<Partial<Config>, 'webhooks' | 'sip' | 'speech' | 'ai'> & {
  ai?: Partial<AiConfig>;
  webhooks?: Partial<WebhookDeliveryConfig>;
  sip?: Partial<SipConfig>;
  speech?: Partial<SpeechConfig>;
};

function sipFromEnv(env: Env): Partial<SipConfig> {
  const sip: Partial<SipConfig> = {};
  const enabled = env['SWITCHBOARD_SIP'];
  if (enabled) sip.enabled = !['0', 'off', 'false', 'no'].includes(enabled.toLowerCase());
  if (env['SWITCHBOARD_SIP_HOST']) sip.host = env['SWITCHBOARD_SIP_HOST'];
  if (env['SWITCHBOARD_SIP_ADVERTISED_HOST']) sip.advertisedHost = env['SWITCHBOARD_SIP_ADVERTISED_HOST'];
  if (env['SWITCHBOARD_SIP_PORT']) sip.port = parsePort(env['SWITCHBOARD_SIP_PORT']);
  const range = env['SWITCHBOARD_RTP_PORTS'];
  if (range) {
    const match = /^(\d+)-(\d+)$/.exec(range.trim());
    if (!match) throw new ConfigError(`SWITCHBOARD_RTP_PORTS must look like 10000-20000: ${range}`);
    sip.rtpPortMin = parsePort(match[1] as string);
    sip.rtpPortMax = parsePort(match[2] as string);
  }
  const thread = env['SWITCHBOARD_RTP_THREAD'];
  if (thread) sip.rtpThread = !['0', 'off', 'false', 'no'].includes(thread.toLowerCase());
  return sip;
}

function endOfTurnFromEnv(env: Env): number | undefined {
  const text = env['SWITCHBOARD_AI_END_OF_TURN_MS'];
  if (!text) return undefined;
  const ms = Number(text);
  if (!Number.isInteger(ms)) throw new ConfigError(`SWITCHBOARD_AI_END_OF_TURN_MS must be a whole number of milliseconds: ${text}`);
  return ms;
}

/** `off`, or `<requests per second>[/<burst>]`, e.g. `50/100`. */
function parseRateLimit(text: string): Config['rateLimit'] {
  if (text === 'off') return null;
  const match = /^(\d+(?:\.\d+)?)(?:\/(\d+))?$/.exec(text.trim());
  if (!match) throw new ConfigError(`SWITCHBOARD_RATE_LIMIT must be "off" or like 50/100 (per second/burst): ${text}`);
  const requestsPerSecond = Number(match[1]);
  return { requestsPerSecond, burst: match[2] ? Number(match[2]) : Math.max(1, Math.ceil(requestsPerSecond * 2)) };
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`invalid port: ${text}`);
  return port;
}

function readConfigFile(path: string): Partial<Config> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read configuration file ${path}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`configuration file ${path} must hold a JSON object`);
  }
  return parsed as Partial<Config>;
}

function validateConfig(config: Config): void {
  if (!Array.isArray(config.apiKeys) || config.apiKeys.some((k) => typeof k !== 'string' || k.length < 8)) {
    throw new ConfigError('apiKeys must be a list of strings of at least 8 characters');
  }
  for (const app of config.applications) {
    if (!app.id || !/^[0-9]{1,19}$/.test(app.id)) throw new ConfigError(`application id must be digits: ${app.id}`);
    if (!app.webhook_event_url) throw new ConfigError(`application ${app.id} needs a webhook_event_url`);
  }
  for (const [number, appId] of Object.entries(config.numbers)) {
    if (typeof appId !== 'string') throw new ConfigError(`number ${number} must map to an application id`);
  }
  validateSip(config.sip);
  validateSpeech(config.speech);
  checkNice('mediaThreadNice', config.mediaThreadNice);
  const rate = config.rateLimit;
  if (rate && (!(rate.requestsPerSecond > 0) || !(rate.burst >= 1))) throw new ConfigError('rateLimit needs requestsPerSecond > 0 and burst >= 1');
  const endOfTurn = config.ai.endOfTurnSilenceMs;
  if (!Number.isInteger(endOfTurn) || endOfTurn < 100 || endOfTurn > 5000) {
    throw new ConfigError(`ai.endOfTurnSilenceMs must be whole milliseconds from 100 to 5000: ${String(endOfTurn)}`);
  }
  const llmProblems = checkLlmConfig(config.ai.llm);
  if (llmProblems.length > 0) throw new ConfigError(llmProblems.join('; '));
}

const VOICE_FAMILIES = ['*', 'basic', 'polly', 'azure', 'elevenlabs', 'telnyx', 'minimax', 'rime', 'resemble', 'inworld', 'fishaudio', 'xai', 'humain'];

function validateSpeech(speech: SpeechConfig): void {
  if (!Array.isArray(speech.providers)) throw new ConfigError('speech.providers must be a list');
  for (const [i, provider] of speech.providers.entries()) {
    if (typeof provider.baseUrl !== 'string' || !/^https?:\/\//.test(provider.baseUrl)) {
      throw new ConfigError(`speech.providers[${i}].baseUrl must be an http(s) URL`);
    }
    if (!Array.isArray(provider.families) || provider.families.length === 0 || provider.families.some((f) => !VOICE_FAMILIES.includes(f))) {
      throw new ConfigError(`speech.providers[${i}].families must list voice families from: ${VOICE_FAMILIES.join(', ')}`);
    }
  }
  if (!Number.isInteger(speech.cacheBytes) || speech.cacheBytes < 0) throw new ConfigError('speech.cacheBytes must be a whole number of bytes');
  const server = speech.transcriptionServer;
  if (server && (typeof server.baseUrl !== 'string' || !/^https?:\/\//.test(server.baseUrl) || typeof server.model !== 'string')) {
    throw new ConfigError('speech.transcriptionServer needs an http(s) baseUrl and a model');
  }
}

function validateSip(sip: SipConfig): void {
  const isPort = (n: unknown): boolean => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 65535;
  if (!isPort(sip.port)) throw new ConfigError(`sip.port must be a port number: ${sip.port}`);
  if (!isPort(sip.rtpPortMin) || !isPort(sip.rtpPortMax) || sip.rtpPortMin < 1024 || sip.rtpPortMin >= sip.rtpPortMax) {
    throw new ConfigError(`sip RTP port range must satisfy 1024 <= rtpPortMin < rtpPortMax <= 65535: ${sip.rtpPortMin}-${sip.rtpPortMax}`);
  }
  if (typeof sip.rtpThread !== 'boolean') throw new ConfigError(`sip.rtpThread must be true or false: ${String(sip.rtpThread)}`);
  if (typeof sip.rtpSendDelayMs !== 'number' || !Number.isFinite(sip.rtpSendDelayMs) || sip.rtpSendDelayMs < 0 || sip.rtpSendDelayMs > MAX_RTP_SEND_DELAY_MS) {
    throw new ConfigError(`sip.rtpSendDelayMs must be a number of milliseconds from 0 to ${MAX_RTP_SEND_DELAY_MS}: ${String(sip.rtpSendDelayMs)}`);
  }
  checkNice('sip.rtpThreadNice', sip.rtpThreadNice);
  const gateway = sip.gateway;
  if (gateway) {
    if (typeof gateway.host !== 'string' || gateway.host === '') throw new ConfigError('sip.gateway.host is required');
    if (!isPort(gateway.port ?? 5060)) throw new ConfigError(`sip.gateway.port must be a port number: ${gateway.port}`);
    if (gateway.transport !== undefined && gateway.transport !== 'udp' && gateway.transport !== 'tcp') {
      throw new ConfigError(`sip.gateway.transport must be udp or tcp: ${String(gateway.transport)}`);
    }
  }
  const auth = sip.inboundAuth;
  if (auth && (typeof auth.realm !== 'string' || typeof auth.users !== 'object' || auth.users === null)) {
    throw new ConfigError('sip.inboundAuth needs a realm and a users object (user name → password)');
  }
}
