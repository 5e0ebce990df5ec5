import Telnyx from 'telnyx';
import { createIvrApp } from './app.js';

/** `npx tsx examples/ivr/main.ts`: runs the IVR against whatever TELNYX_BASE_URL points at. */
async function main(): Promise<void> {
  const apiKey = process.env['TELNYX_API_KEY'];
  const publicKey = process.env['TELNYX_PUBLIC_KEY'];
  const baseURL = process.env['TELNYX_BASE_URL'];
  const missing = [['TELNYX_API_KEY', apiKey], ['TELNYX_PUBLIC_KEY', publicKey], ['TELNYX_BASE_URL', baseURL]]
    .filter(([, value]) => !value).map(([name]) => name);
  if (missing.length > 0) {
    process.stderr.write(`ivr: set ${missing.join(', ')} (Switchboard prints all three when it starts)\n`);
    process.exit(2);
  }
  const port = Number(process.env['PORT'] ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`ivr: invalid PORT: ${process.env['PORT']}\n`);
    process.exit(2);
  }

  const client = new Telnyx({ apiKey, publicKey, baseURL });
  const ivr = await createIvrApp({ client, port, host: process.env['HOST'] ?? '127.0.0.1' });
  process.stdout.write(`IVR listening. Set the application's webhook_event_url to:\n  ${ivr.url}\n`);

  const stop = (): void => {
    ivr.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`ivr: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
