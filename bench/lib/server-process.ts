import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort } from './ports.js';
import { children, terminate } from './processes.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerProcessOptions {
  /** Scratch directory: the config file, the data directory and the server's whole log (server.log). */
  dir: string;
  /** What goes into the server's switchboard.json (applications, numbers, …). */
  config: object;
  apiKey: string;
  /** The server's RTP port range, `min-max`. */
  rtpPorts: string;
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: readonly string[];
}

/**
 * A Switchboard server as a child process (src/cli/main.ts, loopback only), so a bench measures its
 * CPU and memory apart from the bench's own. Its whole log stays in the scratch directory.
 */
export class ServerProcess {
  private constructor(readonly child: ChildProcess, readonly url: string, readonly sipPort: number, private readonly apiKey: string, private readonly tail: string[]) {}

  static async start(options: ServerProcessOptions): Promise<ServerProcess> {
    const { dir } = options;
    const configPath = join(dir, 'switchboard.json');
    writeFileSync(configPath, JSON.stringify(options.config));
    const port = await freeTcpPort();
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', 'src/cli/main.ts'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        SWITCHBOARD_HOST: '127.0.0.1',
        SWITCHBOARD_PORT: String(port),
        SWITCHBOARD_DATA_DIR: join(dir, 'data'),
        SWITCHBOARD_API_KEYS: options.apiKey,
        SWITCHBOARD_SIP_HOST: '127.0.0.1',
        SWITCHBOARD_SIP_PORT: '0',
        SWITCHBOARD_RTP_PORTS: options.rtpPorts,
        SWITCHBOARD_CONFIG: configPath,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    const logPath = join(dir, 'server.log');
    const tail: string[] = [];
    child.stderr?.on('data', (chunk: Buffer) => {
      appendFileSync(logPath, chunk);
      tail.push(chunk.toString());
      if (tail.length > 200) tail.splice(0, tail.length - 200);
    });
    child.stdout?.on('data', (chunk: Buffer) => appendFileSync(logPath, chunk));
    let banner = '';
    const sipPort = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not start within 30 s:\n${tail.join('')}`)), 30_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        if (banner.includes('TELNYX_PUBLIC_KEY=')) return;
        banner += chunk.toString();
        if (!banner.includes('TELNYX_PUBLIC_KEY=')) return;
        clearTimeout(timer);
        const match = /SIP on [^\s:]+:(\d+) \(UDP\)/.exec(banner);
        if (match) resolve(Number(match[1]));
        else reject(new Error(`no SIP port in the server's banner:\n${banner}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the server exited with ${code}:\n${tail.join('')}`));
      });
    });
    return new ServerProcess(child, `http://127.0.0.1:${port}`, sipPort, options.apiKey, tail);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** GET /switchboard/v1/stats. */
  async stats<T>(): Promise<T> {
    const response = await fetch(`${this.url}/switchboard/v1/stats`, {
      headers: { authorization: `Bearer ${this.apiKey}` },
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`GET /switchboard/v1/stats: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { data: T }).data;
  }

  /** Server log lines that point at trouble, for the diagnostics. */
  problems(): string[] {
    return this.tail.join('').split('\n').filter((line) => /fail|error|refused|cannot/i.test(line)).slice(-10);
  }

  /** Graceful, so a --cpu-prof profile gets written. */
  stop(): Promise<void> {
    return terminate(this.child, 15_000);
  }
}
