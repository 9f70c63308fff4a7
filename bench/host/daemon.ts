/**
 * `dm-remap run` as a child process the figures watch from outside: its
 * JSON log lines as they come, its pass counter (Prometheus), its /proc.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import net from 'node:net';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

export type LogLine = Record<string, unknown>;

/** Daemons still running: a benchmark that ends early (an error, ^C) takes them with it. */
const live = new Set<ChildProcessByStdio<null, Readable, Readable>>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class Daemon {
  private readonly listeners = new Set<(line: LogLine) => void>();
  private output = '';
  private exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcessByStdio<null, Readable, Readable>,
    readonly metricsPort: number,
  ) {
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const text of lines) this.take(text);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => this.keep(chunk));
    live.add(child);
    this.exited = new Promise((resolve) =>
      child.on('close', (status) => {
        live.delete(child);
        resolve(status);
      }),
    );
  }

  /** Start `node CLI run ARGS... --log-format json --metrics-address 127.0.0.1:PORT`. */
  static async start(cli: string, args: readonly string[]): Promise<Daemon> {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [cli, 'run', ...args, '--log-format', 'json', '--metrics-address', `127.0.0.1:${port}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return new Daemon(child, port);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines of output, for an error message. */
  tail(): string {
    return this.output.slice(-2000);
  }

  onLine(listener: (line: LogLine) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The first log line from now on that `match` accepts, or undefined after `timeoutMs`. */
  nextLine(match: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const finish = (line: LogLine | undefined) => {
        clearTimeout(timer);
        stop();
        resolve(line);
      };
      const stop = this.onLine((line) => {
        if (match(line)) finish(line);
      });
    });
  }

  /** dm_remap_reconcile_passes_total, or undefined when /metrics does not answer within `timeoutMs`. */
  async passes(timeoutMs = 60_000): Promise<number | undefined> {
    try {
      const response = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`, {
        signal: AbortSignal.timeout(timeoutMs),
      });
      const match = /^dm_remap_reconcile_passes_total(?:\{[^}]*\})? (\S+)$/m.exec(await response.text());
      return match ? Number(match[1]) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Wait until /metrics answers (the daemon has started), or `timeoutMs`. */
  async ready(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.running) {
      if ((await this.passes(2_000)) !== undefined) return true;
      await sleep(200);
    }
    return false;
  }

  /** SIGTERM, then SIGKILL when it has not exited after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private take(text: string): void {
    this.keep(text + '\n');
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    for (const listener of [...this.listeners]) listener(line);
  }

  private keep(text: string): void {
    this.output = (this.output + text).slice(-20_000);
  }
}

/** A TCP port free on the loopback now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
