/**
 * Runs test/sdks/java (a Maven project: the official Telnyx Java SDK from Maven Central performing every
 * operation of the Voice Gather – Java seed) against a live TestSwitchboard.
 *
 * Needs java and mvn; the first build resolves com.telnyx.sdk:telnyx from Maven Central, later builds run
 * offline (`mvn -o`). Skips cleanly without java/mvn or when the project cannot be built.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TestSwitchboard } from '../../src/testing/harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, 'java');
const classes = join(dir, 'target', 'classes');
const deps = join(dir, 'target', 'dependency');
const mainClass = 'switchboard.conformance.Conformance';

function build(): string | false {
  if (spawnSync('java', ['-version']).status !== 0) return 'java is not installed';
  if (spawnSync('mvn', ['-v']).status !== 0) return 'mvn is not installed';
  const mvn = (offline: boolean) => spawnSync('mvn', ['-B', '-q', ...(offline ? ['-o'] : []), 'package'], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
  let result = mvn(true);
  if (result.status !== 0) result = mvn(false); // first build: resolve from Maven Central
  if (result.status !== 0) {
    const out = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').filter((l) => l.includes('ERROR')).slice(0, 3).join(' | ');
    return `the Java project cannot be built (mvn exit ${result.status ?? result.signal}): ${out.slice(0, 500)}`;
  }
  if (!existsSync(join(classes, 'switchboard', 'conformance', 'Conformance.class')) || !existsSync(deps)) return 'the Java build produced no classes';
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


const skip = build();

describe('Java SDK (com.telnyx.sdk on Maven Central): the Voice Gather seed', { skip }, () => {
  let sb: TestSwitchboard;
  let model: FakeChatModel;
  let code: number | null = null;
  let report: Report | null = null;
  let shown = '';
  before(async () => {
    model = await new FakeChatModel().start();
    sb = await TestSwitchboard.start({
      config: { rateLimit: { requestsPerSecond: 20, burst: 20 }, ai: { llm: { baseUrl: model.url, model: 'fake-model' } } },
    });
    const child = spawn('java', ['-cp', [classes, join(deps, '*')].join(delimiter), mainClass], {
      env: { ...process.env, SWITCHBOARD_URL: sb.server.url, TELNYX_API_KEY: sb.apiKey, TELNYX_PUBLIC_KEY: sb.publicKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(null); }, 270_000);
      child.on('exit', (c) => { clearTimeout(timer); resolve(c); });
    });
    const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
    report = line ? (JSON.parse(line) as Report) : null;
    shown = `exit ${code}\nreport: ${JSON.stringify(report, null, 2)}\nstderr:\n${stderr.slice(-8000)}`;
  }, { timeout: 300_000 });
  after(async () => {
    await sb?.close();
    await model?.close();
  });

  it('performs every seed operation and raises every error the seed names', (t) => {
    assert.ok(report, `no JSON report\n${shown}`);
    assert.equal(report.language, 'java', shown);
    t.diagnostic(`Telnyx Java SDK ${report.sdk_version ?? '?'}`);
    for (const o of report.operations) t.diagnostic(`${o.ok ? 'ok  ' : 'FAIL'} ${o.name}: ${o.detail ?? ''}`);
    for (const e of report.errors) t.diagnostic(`${e.ok ? 'ok  ' : 'FAIL'} ${e.class}: ${e.detail ?? ''}`);
    assert.equal(report.fatal, undefined, shown);
    const failed = [
      ...report.operations.filter((o) => !o.ok).map((o) => o.name),
      ...report.errors.filter((e) => !e.ok).map((e) => e.class),
    ];
    assert.deepEqual(failed, [], shown);
    for (const name of ['gather', 'gather_stop', 'gather_using_speak', 'gather_using_audio', 'gather_using_ai', 'ai_assistant_start', 'ai_assistant_add_messages', 'ai_assistant_stop']) {
      assert.ok(report.operations.some((o) => o.name === name && o.ok), `${name} missing\n${shown}`);
    }
    assert.ok(report.operations.some((o) => o.name.startsWith('webhook verification') && o.ok), `webhook verification missing\n${shown}`);
    for (const status of ['connection error', '401', '404', '422', '429']) {
      assert.ok(report.errors.some((e) => e.class.startsWith(status) && e.ok), `${status} missing\n${shown}`);
    }
    assert.equal(code, 0, shown);
  });
});
