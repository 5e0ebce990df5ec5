/**
 * Whole DTMF call flows on virtual phones, driven by an app written with the official SDK:
 * answer on call.initiated, gather on call.answered, hang up on call.gather.ended.
 * Prints one JSON object: throughput, command latency, and event latency (occurred_at → received).
 *
 *   npx tsx bench/call-flow.ts [calls=300] [concurrency=30]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import Telnyx from 'telnyx';
import { TestSwitchboard } from '../src/testing/harness.js';

const totalCalls = Number(process.argv[2] ?? 300);
const concurrency = Number(process.argv[3] ?? 30);
const deadlineMs = 120_000;

const commandLatency: number[] = [];
const eventLatency: number[] = [];
const finished = new Map<string, () => void>();

const sb = await TestSwitchboard.start({ config: { webhooks: { maxRounds: 3, baseDelayMs: 100, maxDelayMs: 200, defaultTimeoutMs: 5000 } } });
const client = new Telnyx({ apiKey: sb.apiKey, baseURL: sb.baseURL, maxRetries: 0 });

async function timed(command: () => Promise<unknown>): Promise<void> {
  const start = performance.now();
  await command();
  commandLatency.push(performance.now() - start);
}

const app = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    res.writeHead(200).end();
    const { data } = JSON.parse(Buffer.concat(chunks).toString()) as { data: { event_type: string; occurred_at: string; payload: Record<string, string> } };
    eventLatency.push(Date.now() - Date.parse(data.occurred_at));
    const ccid = data.payload['call_control_id'] as string;
    const act = (): Promise<void> | undefined => {
      switch (data.event_type) {
        case 'call.initiated': return timed(() => client.calls.actions.answer(ccid, {}));
        case 'call.answered': return timed(() => client.calls.actions.gather(ccid, { maximum_digits: 4 }));
        case 'call.gather.ended': return timed(() => client.calls.actions.hangup(ccid, {}));
        case 'call.hangup': finished.get(ccid)?.(); return undefined;
        default: return undefined;
      }
    };
    act()?.catch((err: unknown) => process.stderr.write(`${String(err)}\n`));
  });
});
await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/`;
const connectionId = await sb.createApplication(appUrl, ['+15550900000']);

async function oneCall(i: number): Promise<void> {
  const call = await sb.placeCall(`+1555091${String(i).padStart(4, '0')}`, '+15550900000');
  const done = new Promise<void>((resolve) => finished.set(call.call_control_id, resolve));
  for (let tries = 0; tries < 200 && (await sb.virtualCall(call.id)).state !== 'answered'; tries++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  await sb.pressDigits(call.id, '1234', 40, 0);
  await done;
}

const started = performance.now();
let next = 0;
let completed = 0;
await Promise.race([
  Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < totalCalls) {
      await oneCall(next++);
      completed++;
    }
  })),
  new Promise((r) => setTimeout(r, deadlineMs)),
]);
const elapsedS = (performance.now() - started) / 1000;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round((s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0) * 100) / 100;
};
process.stdout.write(`${JSON.stringify({
  benchmark: 'call-flow',
  calls: completed,
  concurrency,
  elapsed_s: Math.round(elapsedS * 100) / 100,
  calls_per_s: Math.round((completed / elapsedS) * 10) / 10,
  events_delivered: eventLatency.length,
  events_per_s: Math.round(eventLatency.length / elapsedS),
  command_ms: { p50: pct(commandLatency, 50), p99: pct(commandLatency, 99) },
  event_delivery_ms: { p50: pct(eventLatency, 50), p99: pct(eventLatency, 99) },
  rss_mb: Math.round(process.memoryUsage().rss / 1e6),
})}\n`);

app.close();
await sb.close();
process.exit(0);
