/**
 * What the load benches share about the processes they run and measure: every child registered
 * so any way out kills it, and CPU and memory read from /proc (Linux).
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Kernel clock ticks per second in /proc (USER_HZ, 100 on Linux). */
export const CLK_TCK = 100;

/** Every child a bench starts: killed on exit or on SIGINT/SIGTERM. */
export const children = new Set<ChildProcess>();

export function killChildren(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
}

/**
 * Runs a bench's `main` within `limitMs`: on success the process exits 0; on a failure or at the
 * time limit the children are killed and `report(reason)` (the JSON of what finished) is printed.
 */
export function runBounded(main: () => Promise<void>, limitMs: number, report: (reason: string) => string, log: (message: string) => void): void {
  const watchdog = setTimeout(() => {
    log(`time limit of ${Math.round(limitMs / 1000)} s reached; reporting what finished`);
    killChildren();
    process.stdout.write(report('time limit reached'));
    process.exit(3);
  }, limitMs);
  watchdog.unref();
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      log(`failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      killChildren();
      process.stdout.write(report(error instanceof Error ? error.message : String(error)));
      process.exit(1);
    },
  );
}

/** Installs the kill-on-exit handlers once; `log` says why the bench is stopping. */
export function killChildrenOnExit(log: (message: string) => void): void {
  process.on('exit', killChildren);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      log(`${signal}: stopping children`);
      killChildren();
      process.exit(130);
    });
  }
}

export function whenExited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone. */
export async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await whenExited(child);
    clearTimeout(timer);
  }
  children.delete(child);
}

/** CPU time (in ticks) at a moment. */
export interface Ticks { at: number; ticks: number }

export function processTicks(pid: number | undefined): Ticks | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces; fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { at: performance.now(), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

/** Busy ticks summed over every CPU, so a delta reads in the same unit as a process's (200 % = 2 cores). */
export function machineTicks(): Ticks {
  const values = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((sum, v) => sum + v, 0);
  return { at: performance.now(), ticks: total - (values[3] ?? 0) - (values[4] ?? 0) };
}

export function selfTicks(): Ticks {
  const usage = process.cpuUsage();
  return { at: performance.now(), ticks: ((usage.user + usage.system) / 1e6) * CLK_TCK };
}

/** Percent of one core between two samples (above 100 for a process on several cores). */
export function pctOfCore(a: Ticks | null, b: Ticks | null): number | null {
  if (!a || !b || b.at <= a.at) return null;
  return ((b.ticks - a.ticks) / CLK_TCK / ((b.at - a.at) / 1000)) * 100;
}

export function rssKb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/**
 * On a shared machine another job distorts every timing, so a step starts only once the machine
 * has been nearly idle (below `quietPct` of a core) for a second, waiting at most `maxWaitMs`.
 * Returns the last busy percentage seen.
 */
export async function waitForQuiet(maxWaitMs: number, quietPct: number, log: (message: string) => void): Promise<number | null> {
  const deadline = performance.now() + maxWaitMs;
  let busy: number | null = null;
  for (let i = 0; i < 1000 && performance.now() < deadline; i++) {
    const a = machineTicks();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    busy = pctOfCore(a, machineTicks());
    if (busy !== null && busy < quietPct) break;
    if (i % 5 === 0) log(`waiting for the machine to quieten: ${busy === null ? '?' : busy.toFixed(0)}% of a core busy elsewhere`);
  }
  return busy === null ? null : Math.round(busy * 10) / 10;
}
