// Conformance of the official Go SDK (github.com/team-telnyx/telnyx-go) against Switchboard:
// builds test/sdks/go (offline, from the module cache) and runs it against a private Switchboard
// with a low rate limit and an OpenAI-compatible chat test double for the AI operations.
// Skips cleanly when `go` is missing or the module cannot be built offline.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TestSwitchboard } from '../../src/testing/harness.js';

/** The program's folder; SDK_GO_DIR points the runner at another copy of it (e.g. a scratch one). */
const PROGRAM_DIR = process.env['SDK_GO_DIR'] ?? join(dirname(fileURLToPath(import.meta.url)), 'go');

interface Report {
  language: string;
  sdk_version: string;
  operations: { name: string; ok: boolean; detail: string }[];
  errors: { class: string; ok: boolean; detail?: string }[];
}

function build(): { binary: string; dir: string } | { skip: string } {
  const version = spawnSync('go', ['version'], { encoding: 'utf8', timeout: 30_000 });
  if (version.error || version.status !== 0) return { skip: 'go is not installed' };
  const dir = mkdtempSync(join(tmpdir(), 'sdk-go-'));
  const binary = join(dir, 'conformance');
  const res = spawnSync('go', ['build', '-o', binary, '.'], {
    cwd: PROGRAM_DIR,
    encoding: 'utf8',
    timeout: 300_000,
    // Offline: only what the module cache already holds (CI fills it with `go mod download`).
    env: { ...process.env, GOPROXY: 'off', GOFLAGS: '-mod=readonly', GOTOOLCHAIN: process.env['GOTOOLCHAIN'] ?? 'local' },
  });
  if (res.error || res.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    const why = (res.error?.message ?? res.stderr ?? '').trim().split('\n').slice(0, 3).join(' | ');
    return { skip: `the Go SDK module cannot be built offline: ${why}` };
  }
  return { binary, dir };
}

/** An OpenAI-compatible chat model: asks for the account number, saves it once it hears 4271. */
class FakeChatModel {
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.answer(req).then((body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    return this;
  }

  async close(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async answer(req: IncomingMessage): Promise<unknown> {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const request = JSON.parse(raw) as { messages: { role: string; content: string | null }[]; tools?: { function: { name: string } }[] };
    const lastUser = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    const tools = request.tools?.map((t) => t.function.name) ?? [];
    if (tools.includes('save_result') && /4271/.test(lastUser)) {
      return completion(null, [
        { name: 'note_answers', args: { account_number: 4271 } },
        { name: 'save_result', args: { account_number: 4271, confirmed: true } },
      ]);
    }
    if (/summar/i.test(lastUser)) return completion('The caller asked about their balance.');
    if (lastUser.includes('balance')) return completion('Your balance is twelve dollars.');
    return completion('What is your account number?');
  }
}

function completion(text: string | null, calls: { name: string; args: unknown }[] = []): unknown {
  return {
    id: 'chatcmpl-test', object: 'chat.completion', model: 'fake-model',
    choices: [{
      index: 0,
      finish_reason: calls.length ? 'tool_calls' : 'stop',
      message: {
        role: 'assistant', content: text,
        ...(calls.length ? { tool_calls: calls.map((c, i) => ({ id: `call_${i}`, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.args) } })) } : {}),
      },
    }],
  };
}

function runProgram(binary: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(binary, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const built = build();

test('Go SDK (telnyx-go): every operation of the Voice Gather seed against a live Switchboard', 'skip' in built ? { skip: built.skip } : { timeout: 360_000 }, async (t) => {
  if ('skip' in built) return;
  const model = await new FakeChatModel().start();
  const sb = await TestSwitchboard.start({
    config: { rateLimit: { requestsPerSecond: 20, burst: 20 }, ai: { llm: { baseUrl: model.url, model: 'fake-model' } } },
  });
  try {
    const { code, stdout, stderr } = await runProgram(built.binary, {
      ...process.env,
      SWITCHBOARD_URL: sb.baseURL.replace(/\/v2$/, ''),
      TELNYX_API_KEY: sb.apiKey,
      TELNYX_PUBLIC_KEY: sb.publicKey,
    }, 300_000);
    const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? '';
    let report: Report | null = null;
    try {
      report = JSON.parse(line) as Report;
    } catch {
      report = null;
    }
    t.diagnostic(`report: ${line || '(none)'}`);
    const context = `exit ${code}\nreport: ${line || '(none)'}\nstderr: ${stderr.slice(-4000)}`;
    assert.ok(report, `no JSON report\n${context}`);
    assert.equal(report.language, 'go', context);
    const failed = [...report.operations.filter((o) => !o.ok).map((o) => `${o.name}: ${o.detail}`), ...report.errors.filter((e) => !e.ok).map((e) => `${e.class}: ${e.detail ?? ''}`)];
    assert.deepEqual(failed, [], context);
    assert.ok(report.operations.length > 0 && report.errors.length > 0, context);
    assert.equal(code, 0, context);
  } finally {
    await sb.close();
    await model.close();
    rmSync(built.dir, { recursive: true, force: true });
  }
});
