/**
 * Runs test/sdks/python/conformance.py (the official `telnyx` PyPI SDK performing every operation
 * of the Voice Gather – Python seed) against a live TestSwitchboard.
 *
 * Needs the venv: see test/sdks/python/README.md. Skips cleanly without python3 or the venv.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TestSwitchboard } from '../../src/testing/harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, 'python');
const program = join(dir, 'conformance.py');
const venvPython = process.env['SWITCHBOARD_PYTHON'] ?? join(dir, '.venv', 'bin', 'python');

function skipReason(): string | false {
  if (spawnSync('python3', ['--version']).status !== 0) return 'python3 is not installed';
  if (!existsSync(venvPython)) return `no venv at ${venvPython} (see test/sdks/python/README.md)`;
  const probe = spawnSync(venvPython, ['-c', 'import telnyx, nacl; print(telnyx.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) return `the venv lacks telnyx[webhooks]: ${probe.stderr.trim().split('\n').at(-1) ?? ''}`;
  return false;
}

/** An OpenAI-compatible chat endpoint that answers like a small bank assistant. */
class FakeChatModel {
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.answer(req).then(
      (body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
      (error: unknown) => res.writeHead(500).end(String(error)),
    ));
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
    const number = /(\d{3,})/.exec(lastUser)?.[1];
    if (tools.includes('save_result') && number) {
      return completion(null, [
        { name: 'note_answers', args: { account_number: Number(number) } },
        { name: 'save_result', args: { account_number: Number(number) } },
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

interface Report {
  language: string;
  sdk_version?: string;
  fatal?: string;
  operations: { name: string; ok: boolean; detail?: string }[];
  errors: { class: string; ok: boolean; detail?: string }[];
}

const skip = skipReason();

describe('Python SDK (telnyx on PyPI): the Voice Gather seed', { skip }, () => {
  let sb: TestSwitchboard;
  let model: FakeChatModel;
  before(async () => {
    model = await new FakeChatModel().start();
    sb = await TestSwitchboard.start({
      config: { rateLimit: { requestsPerSecond: 20, burst: 20 }, ai: { llm: { baseUrl: model.url, model: 'fake-model' } } },
    });
  });
  after(async () => {
    await sb?.close();
    await model?.close();
  });

  it('performs every seed operation and raises every error class the seed names', { timeout: 300_000 }, async (t) => {
    const child = spawn(venvPython, [program], {
      env: { ...process.env, SWITCHBOARD_URL: sb.server.url, TELNYX_API_KEY: sb.apiKey, TELNYX_PUBLIC_KEY: sb.publicKey, PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(null); }, 270_000);
      child.on('exit', (c) => { clearTimeout(timer); resolve(c); });
    });
    const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
    const report = line ? (JSON.parse(line) as Report) : null;
    const shown = `exit ${code}\nreport: ${JSON.stringify(report, null, 2)}\nstderr:\n${stderr.slice(-8000)}`;
    assert.ok(report, `no JSON report\n${shown}`);
    t.diagnostic(`telnyx (PyPI) ${report.sdk_version ?? '?'}`);
    for (const o of report.operations) t.diagnostic(`${o.ok ? 'ok  ' : 'FAIL'} ${o.name}: ${o.detail ?? ''}`);
    for (const e of report.errors) t.diagnostic(`${e.ok ? 'ok  ' : 'FAIL'} ${e.class}: ${e.detail ?? ''}`);
    assert.equal(report.fatal, undefined, shown);
    const failed = [...report.operations.filter((o) => !o.ok).map((o) => o.name), ...report.errors.filter((e) => !e.ok).map((e) => e.class)];
    assert.deepEqual(failed, [], shown);
    for (const name of ['gather', 'gather_stop', 'gather_using_speak', 'gather_using_audio', 'gather_using_ai', 'ai_assistant_start', 'ai_assistant_add_messages', 'ai_assistant_stop', 'webhooks.unwrap']) {
      assert.ok(report.operations.some((o) => o.name === name && o.ok), `${name} missing\n${shown}`);
    }
    for (const cls of ['APIConnectionError', 'AuthenticationError', 'NotFoundError', 'UnprocessableEntityError', 'RateLimitError', 'APIStatusError']) {
      assert.ok(report.errors.some((e) => e.class === cls && e.ok), `${cls} missing\n${shown}`);
    }
    assert.equal(code, 0, shown);
  });
});
