/**
 * Runs test/sdks/python/conformance.py (the official `telnyx` PyPI SDK performing every operation
 * of the Voice Gather – Python seed) against a live TestSwitchboard.
 *
 * Needs the venv: see test/sdks/python/README.md. Skips cleanly without python3 or the venv.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertConformance, GATHER_SEED_OPERATIONS, runConformance } from './conformance-runner.js';

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

const skip = skipReason();

it('Python SDK (telnyx on PyPI): every operation and error class of the Voice Gather seed', { skip, timeout: 300_000 }, async (t) => {
  const run = await runConformance(venvPython, [program], { env: { PYTHONUNBUFFERED: '1' } });
  assertConformance(t, run, {
    language: 'python',
    operations: [...GATHER_SEED_OPERATIONS, 'webhooks.unwrap'],
    errors: ['APIConnectionError', 'AuthenticationError', 'NotFoundError', 'UnprocessableEntityError', 'RateLimitError', 'APIStatusError']
      .map((cls) => (name: string) => name === cls),
  });
});
