/**
 * Runs test/sdks/java (a Maven project: the official Telnyx Java SDK from Maven Central performing every
 * operation of the Voice Gather – Java seed) against a live TestSwitchboard.
 *
 * Needs java and mvn; the first build resolves com.telnyx.sdk:telnyx from Maven Central, later builds run
 * offline (`mvn -o`). Skips cleanly without java/mvn or when the project cannot be built.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertConformance, GATHER_SEED_OPERATIONS, runConformance } from './conformance-runner.js';

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

const skip = build();

it('Java SDK (com.telnyx.sdk on Maven Central): every operation and error class of the Voice Gather seed', { skip, timeout: 600_000 }, async (t) => {
  const run = await runConformance('java', ['-cp', [classes, join(deps, '*')].join(delimiter), mainClass]);
  assertConformance(t, run, {
    language: 'java',
    operations: [...GATHER_SEED_OPERATIONS, 'webhook verification'],
    errors: ['connection error', '401', '404', '422', '429'].map((what) => (name: string) => name.startsWith(what)),
  });
});
