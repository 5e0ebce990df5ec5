// Conformance of the official Go SDK (github.com/team-telnyx/telnyx-go) against Switchboard:
// builds test/sdks/go (offline, from the module cache) and runs it against a private Switchboard
// with a low rate limit and an OpenAI-compatible chat test double for the AI operations.
// Skips cleanly when `go` is missing or the module cannot be built offline.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertConformance, GATHER_SEED_OPERATIONS, runConformance } from './conformance-runner.js';

/** The program's folder; SDK_GO_DIR points the runner at another copy of it (e.g. a scratch one). */
const PROGRAM_DIR = process.env['SDK_GO_DIR'] ?? join(dirname(fileURLToPath(import.meta.url)), 'go');

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

const built = build();

test('Go SDK (telnyx-go): every operation and error class of the Voice Gather seed', 'skip' in built ? { skip: built.skip } : { timeout: 360_000 }, async (t) => {
  if ('skip' in built) return;
  try {
    const run = await runConformance(built.binary, [], { timeoutMs: 300_000 });
    assertConformance(t, run, {
      language: 'go',
      operations: GATHER_SEED_OPERATIONS,
      errors: ['connection', '401', '404', '422', '429'].map((what) => (name: string) => name.toLowerCase().includes(what)),
    });
  } finally {
    rmSync(built.dir, { recursive: true, force: true });
  }
});
