/**
 * One dm-remap at a time acts on device-mapper: `apply` and `run` hold an
 * exclusive lock on `/run/dm-remap/lock` while they may change the kernel, so
 * two applies, or an apply beside the daemon, never interleave their creates
 * and reloads. Read-only verbs (`validate`, `plan`) never take it.
 *
 * Node has no flock(2), so the lock is taken by flock(1) from util-linux (in
 * every Debian system: it is Essential) on a descriptor this process opened
 * and lends it: a flock belongs to the open file description, which this
 * process keeps, so the lock stays held after flock(1) exits and is released
 * by the kernel when this process ends, however it ends (kill -9 included) —
 * no stale lock file to detect or break. The descriptor is close-on-exec
 * (libuv opens every file so), so no dmsetup child can keep the lock alive.
 * The holder writes its pid and verb into the file, so a waiter can name it.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';

/** Where the lock lives for the real kernel; beside the file for a simulated one. */
export const DEFAULT_LOCK_PATH = '/run/dm-remap/lock';

/** flock(1)'s exit status when the lock is held by another (its -E option). */
const CONFLICT_STATUS = 75;

export interface InstanceLock {
  readonly path: string;
  /** Give the lock up (also happens when the process exits). */
  release(): Promise<void>;
}

export interface AcquireOptions {
  /** Written into the lock file once held, e.g. "apply". */
  holder: string;
  /** Give up after this long (undefined: wait as long as it takes). */
  timeoutMs?: number;
  /** Called once when the lock is busy, with what its holder wrote (e.g. "pid 812 run"). */
  onWait?: (holder: string) => void;
  env?: NodeJS.ProcessEnv;
}

export class LockError extends Error {
  override name = 'LockError';
  constructor(
    message: string,
    /** `busy`: still held by another when the wait ended; `unavailable`: the lock could not be taken at all. */
    readonly reason: 'busy' | 'unavailable',
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Takes the lock at `path`, waiting for a holder to finish; throws LockError when it cannot. */
export async function acquireInstanceLock(path: string, options: AcquireOptions): Promise<InstanceLock> {
  const flock = await findFlock(options.env ?? process.env);
  let handle: FileHandle;
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    handle = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new LockError(`cannot open the lock ${path}: ${(cause as Error).message}`, 'unavailable', code);
  }
  try {
    if ((await runFlock(flock, handle, ['--nonblock'])) !== 0) {
      options.onWait?.(await holderOf(handle));
      const wait =
        options.timeoutMs === undefined ? [] : ['--wait', String(Math.max(options.timeoutMs, 1) / 1000)];
      if ((await runFlock(flock, handle, wait)) !== 0) {
        throw new LockError(`${path} is still held by ${await holderOf(handle)}`, 'busy');
      }
    }
    await handle.truncate(0);
    await handle.write(`pid ${process.pid} ${options.holder}\n`, 0);
  } catch (cause) {
    await handle.close();
    throw cause;
  }
  return { path, release: () => handle.close() };
}

/** Runs flock(1) on our descriptor; resolves to 0 (held) or CONFLICT_STATUS, throws on anything else. */
function runFlock(flock: string, handle: FileHandle, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      flock,
      ['--exclusive', '--conflict-exit-code', String(CONFLICT_STATUS), ...args, '3'],
      {
        stdio: ['ignore', 'ignore', 'pipe', handle.fd],
      },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (cause) =>
      reject(new LockError(`cannot run ${flock}: ${cause.message}`, 'unavailable')),
    );
    child.on('close', (status) => {
      if (status === 0 || status === CONFLICT_STATUS) resolve(status);
      else reject(new LockError(`${flock} failed (${status}): ${stderr.trim()}`, 'unavailable'));
    });
  });
}

async function holderOf(handle: FileHandle): Promise<string> {
  const buffer = Buffer.alloc(200);
  const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
  return buffer.subarray(0, bytesRead).toString().trim() || 'another dm-remap';
}

/** flock(1): Debian's own first (a test may put a PATH without it), then $PATH. */
async function findFlock(env: NodeJS.ProcessEnv): Promise<string> {
  const candidates = ['/usr/bin/flock', '/bin/flock', ...(env.PATH ?? '').split(delimiter).filter(Boolean)];
  for (const candidate of candidates) {
    const file = candidate.endsWith('/flock') ? candidate : join(candidate, 'flock');
    try {
      await access(file, constants.X_OK);
      return file;
    } catch {
      // try the next one
    }
  }
  throw new LockError('flock not found (install util-linux)', 'unavailable');
}
