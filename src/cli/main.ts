#!/usr/bin/env node
import { setPriority } from 'node:os';
import { ConfigError, loadConfig } from '../config/config.js';
import { startServer } from '../server.js';

const SHUTDOWN_DEADLINE_MS = 15_000;

/** `switchboard`: start the server on its embedded defaults, configured by env and an optional file. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`switchboard: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = (msg: string, fields?: object) =>
    process.stderr.write(`${new Date().toISOString()} ${msg}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`);
  // Before any thread starts, so the threads the server starts inherit it. Only the command does
  // this: the in-process harness runs inside someone else's test process.
  if (config.mediaThreadNice !== null) {
    try {
      setPriority(config.mediaThreadNice);
    } catch (err) {
      log(`the media thread runs at its default priority: nice ${config.mediaThreadNice} was refused (${err instanceof Error ? err.message : String(err)}); it needs root or CAP_SYS_NICE, or set mediaThreadNice to null`);
    }
  }
  const server = await startServer(config, { log, warmUp: true });

  const lines = [
    `Switchboard is listening on ${server.url} (data in ${config.dataDir})`,
    server.sip
      ? `SIP on ${server.sip.advertisedHost}:${server.sip.port('UDP')} (UDP) and :${server.sip.port('TCP')} (TCP), RTP ports ${config.sip.rtpPortMin}-${config.sip.rtpPortMax}`
      : 'SIP is disabled',
    '',
    'Point any Telnyx SDK at it with:',
    `  TELNYX_BASE_URL=${server.url}/v2`,
  ];
  if (server.generated.apiKey) lines.push(`  TELNYX_API_KEY=${server.generated.apiKey}`);
  lines.push(`  TELNYX_PUBLIC_KEY=${server.publicKey}`);
  if (!server.generated.apiKey) lines.push('and TELNYX_API_KEY set to one of the configured API keys.');
  lines.push('');
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal means the operator does not want to wait.
      log(`received ${signal} again, exiting now`);
      process.exit(1);
    }
    stopping = true;
    log(`received ${signal}, stopping`);
    // Shutdown waits for webhook attempts in flight; never longer than this.
    setTimeout(() => {
      log('shutdown took too long, exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    server.close().then(() => process.exit(0), (err: unknown) => {
      log('error while stopping', { error: String(err) });
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`switchboard: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
