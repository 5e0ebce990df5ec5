import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { TestSwitchboard } from '../../src/testing/harness.js';
import { FakeChatModel } from '../fixtures/fake-chat-model.js';

/** What every conformance program prints as its last line. */
export interface ConformanceReport {
  language: string;
  sdk_version?: string;
  fatal?: string;
  operations: { name: string; ok: boolean; detail?: string }[];
  errors: { class: string; ok: boolean; detail?: string }[];
}

export interface ConformanceRun {
  code: number | null;
  report: ConformanceReport | null;
  /** Everything worth printing when an assertion fails. */
  shown: string;
}

/**
 * Runs one SDK's conformance program against a live TestSwitchboard: a low rate limit (so the
 * program can provoke 429) and a chat-model test double (so the assistant can start). The program
 * gets SWITCHBOARD_URL, TELNYX_API_KEY and TELNYX_PUBLIC_KEY, and is killed after `timeoutMs`.
 */
export async function runConformance(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ConformanceRun> {
  const model = await new FakeChatModel().start();
  const sb = await TestSwitchboard.start({
    config: { rateLimit: { requestsPerSecond: 20, burst: 20 }, ai: { llm: { baseUrl: model.url, model: 'fake-model' } } },
  });
  try {
    const child = spawn(command, [...args], {
      env: { ...process.env, ...options.env, SWITCHBOARD_URL: sb.server.url, TELNYX_API_KEY: sb.apiKey, TELNYX_PUBLIC_KEY: sb.publicKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(null); }, options.timeoutMs ?? 270_000);
      child.on('exit', (c) => { clearTimeout(timer); resolve(c); });
      child.on('error', () => { clearTimeout(timer); resolve(null); });
    });
    const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
    const report = line ? (JSON.parse(line) as ConformanceReport) : null;
    return { code, report, shown: `exit ${code}\nreport: ${JSON.stringify(report, null, 2)}\nstderr:\n${stderr.slice(-8000)}` };
  } finally {
    await sb.close();
    await model.close();
  }
}

/**
 * The program reported every operation and error class ok (and at least those named), and
 * exited 0; the report goes to the test's diagnostics either way.
 */
export function assertConformance(
  t: { diagnostic(message: string): void },
  run: ConformanceRun,
  expected: { language: string; operations: readonly string[]; errors: readonly ((name: string) => boolean)[] },
): void {
  const { report, shown } = run;
  assert.ok(report, `no JSON report\n${shown}`);
  assert.equal(report.language, expected.language, shown);
  t.diagnostic(`SDK ${report.sdk_version ?? '?'}`);
  for (const o of report.operations) t.diagnostic(`${o.ok ? 'ok  ' : 'FAIL'} ${o.name}: ${o.detail ?? ''}`);
  for (const e of report.errors) t.diagnostic(`${e.ok ? 'ok  ' : 'FAIL'} ${e.class}: ${e.detail ?? ''}`);
  assert.equal(report.fatal, undefined, shown);
  const failed = [...report.operations.filter((o) => !o.ok).map((o) => o.name), ...report.errors.filter((e) => !e.ok).map((e) => e.class)];
  assert.deepEqual(failed, [], shown);
  for (const name of expected.operations) assert.ok(report.operations.some((o) => o.name.startsWith(name) && o.ok), `${name} missing\n${shown}`);
  for (const [i, matches] of expected.errors.entries()) assert.ok(report.errors.some((e) => matches(e.class) && e.ok), `error class #${i} missing\n${shown}`);
  assert.equal(run.code, 0, shown);
}

/** The operations of the Voice Gather seed, in every language. */
export const GATHER_SEED_OPERATIONS = [
  'gather', 'gather_stop', 'gather_using_speak', 'gather_using_audio', 'gather_using_ai',
  'ai_assistant_start', 'ai_assistant_add_messages', 'ai_assistant_stop',
] as const;
