import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

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
}

export const defaultConfig: Config = {
  host: '0.0.0.0',
  port: 8080,
  dataDir: './data',
  apiKeys: [],
  applications: [],
  numbers: {},
  webhooks: { maxRounds: 6, baseDelayMs: 1000, maxDelayMs: 30_000, defaultTimeoutMs: 10_000 },
  publicBaseUrl: null,
};

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

/**
 * Configuration = defaults, then the JSON file (SWITCHBOARD_CONFIG, or ./switchboard.json when present),
 * then environment variables, then explicit overrides (used by the in-process harness).
 */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const file = env['SWITCHBOARD_CONFIG'] ?? (existsSync('switchboard.json') ? 'switchboard.json' : undefined);
  const fromFile = file ? readConfigFile(resolve(file)) : {};
  const fromEnv: Partial<Config> = {};
  if (env['SWITCHBOARD_HOST']) fromEnv.host = env['SWITCHBOARD_HOST'];
  if (env['SWITCHBOARD_PORT']) fromEnv.port = parsePort(env['SWITCHBOARD_PORT']);
  if (env['SWITCHBOARD_DATA_DIR']) fromEnv.dataDir = env['SWITCHBOARD_DATA_DIR'];
  if (env['SWITCHBOARD_API_KEYS']) fromEnv.apiKeys = env['SWITCHBOARD_API_KEYS'].split(',').map((k) => k.trim()).filter(Boolean);
  if (env['SWITCHBOARD_PUBLIC_BASE_URL']) fromEnv.publicBaseUrl = env['SWITCHBOARD_PUBLIC_BASE_URL'];
  const merged: Config = {
    ...defaultConfig,
    ...fromFile,
    ...fromEnv,
    ...overrides,
    webhooks: { ...defaultConfig.webhooks, ...fromFile.webhooks, ...overrides.webhooks },
  };
  validateConfig(merged);
  return merged;
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
}
