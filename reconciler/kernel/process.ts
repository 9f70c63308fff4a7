/**
 * Runs one external program with an argument array (never a shell), a
 * timeout and an AbortSignal, and collects its output. The adapter gets a
 * ProcessRunner injected so tests can count or replace the processes.
 *
 * A timeout or abort settles the promise at once and sends SIGKILL; it does
 * not wait for the process to exit, because a dmsetup stuck in an ioctl
 * (uninterruptible sleep, e.g. suspend flushing I/O to a dead disk) does not
 * exit until the kernel lets it, and the caller must not hang with it.
 */
import { spawn } from 'node:child_process';

export interface ProcessOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Extra environment on top of the inherited one. */
  env?: Record<string, string>;
  /** Written to the program's stdin, which is then closed. */
  input?: string;
}

export interface ProcessResult {
  stdout: string;
  stderr: string;
}

/** A program that ran and failed, or never finished. */
export class ProcessFailure extends Error {
  override name = 'ProcessFailure';
  constructor(
    message: string,
    readonly file: string,
    readonly args: readonly string[],
    readonly stdout: string,
    readonly stderr: string,
    /** Exit status; undefined when it was killed or could not start. */
    readonly exitCode: number | undefined,
    readonly reason: 'exit' | 'timeout' | 'aborted' | 'spawn',
  ) {
    super(message);
  }
}

export type ProcessRunner = (
  file: string,
  args: readonly string[],
  options: ProcessOptions,
) => Promise<ProcessResult>;

export const runProcess: ProcessRunner = (file, args, options) =>
  new Promise<ProcessResult>((resolve, reject) => {
    const command = [file, ...args].join(' ');
    const fail = (message: string, exitCode: number | undefined, reason: ProcessFailure['reason']) =>
      new ProcessFailure(`${command}: ${message}`, file, args, stdout, stderr, exitCode, reason);
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    if (options.signal?.aborted) {
      reject(fail('not started: aborted', undefined, 'aborted'));
      return;
    }
    const child = spawn(file, [...args], {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const onAbort = () => {
      child.kill('SIGKILL');
      finish(() => reject(fail('aborted', undefined, 'aborted')));
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(() => reject(fail(`no answer after ${options.timeoutMs} ms`, undefined, 'timeout')));
    }, options.timeoutMs);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error) => finish(() => reject(fail(error.message, undefined, 'spawn'))));
    child.on('close', (code, signalName) => {
      finish(() => {
        if (code === 0) resolve({ stdout, stderr });
        else if (code === null) reject(fail(`killed by ${signalName ?? 'a signal'}`, undefined, 'exit'));
        else reject(fail(stderr.trim() || stdout.trim() || `exit status ${code}`, code, 'exit'));
      });
    });
    // A program that exits without reading stdin makes the write fail with EPIPE; its exit status tells the story.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
