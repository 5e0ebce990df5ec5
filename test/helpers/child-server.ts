import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** A free loopback port, for a child server that must come back on the same address. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The real `switchboard` command in its own process, so it can be killed like a crashed server. */
export class ChildServer {
  private constructor(private readonly child: ChildProcess, readonly output: string[]) {}

  static async start(env: Record<string, string>, timeoutMs = 20_000): Promise<ChildServer> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts'], {
      cwd: repoRoot,
      // SIP on free loopback ports, so parallel servers do not contend for 5060.
      env: { ...process.env, SWITCHBOARD_SIP_HOST: '127.0.0.1', SWITCHBOARD_SIP_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${output.join('')}`)), timeoutMs);
      child.stdout?.on('data', (chunk: Buffer) => {
        output.push(chunk.toString());
        if (output.join('').includes('TELNYX_PUBLIC_KEY=')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code}:\n${output.join('')}`));
      });
    });
    return new ChildServer(child, output);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** The value printed for a `NAME=value` line at start. */
  printed(name: string): string | undefined {
    return output(this.output).match(new RegExp(`${name}=(\\S+)`))?.[1];
  }

  /** SIGKILL: no shutdown code runs, as in a crash. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM, escalating to SIGKILL if the server has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

function output(chunks: string[]): string {
  return chunks.join('');
}
