/**
 * The daemon's view of every device (phase, conditions, target counters),
 * kept in `status.json` beside the instance lock (/run/dm-remap/ for the
 * host's daemon): `dm-remap status` run beside a daemon takes each
 * condition's lastTransitionTime from it, so AGE says how long a device has
 * been as it is. Written atomically (temporary file, rename) and only when
 * the view changes; ignored by readers when the daemon that wrote it is gone.
 *
 * A stopping daemon moves it to `status.last.json`, and the next daemon
 * starts from the conditions found there (or in a `status.json` a crashed
 * daemon left): a restart (an upgrade, Restart=on-failure) then announces
 * only what changed while it was down, not every device that was already
 * Degraded, and keeps each condition's lastTransitionTime. Both live in /run:
 * after a reboot every Degraded device is announced again.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import type { Condition } from './conditions.js';
import type { DeviceStatus } from './deviceStatus.js';

export const DAEMON_VIEW_FILE = 'status.json';
/** Where a stopped daemon's view is kept for the next one (beside DAEMON_VIEW_FILE). */
export const LAST_DAEMON_VIEW_FILE = 'status.last.json';

interface DaemonView {
  pid: number;
  devices: DeviceStatus[];
}

export class DaemonViewWriter {
  private queue: Promise<void> = Promise.resolve();
  private written = '';
  private failure = '';

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
  ) {}

  update(devices: readonly DeviceStatus[]): void {
    const text =
      JSON.stringify({ pid: process.pid, devices: [...devices] } satisfies DaemonView, null, 2) + '\n';
    if (text === this.written) return;
    this.written = text;
    this.queue = this.queue.then(() => this.write(text));
  }

  /** Resolves when every queued write is done. */
  idle(): Promise<void> {
    return this.queue;
  }

  /**
   * The view goes with the daemon (a stale one would tell `status` devices are
   * as they were): it becomes the last view, for the next daemon's start.
   */
  async remove(): Promise<void> {
    await this.queue;
    await rename(this.file, lastViewPath(this.file)).catch(() => rm(this.file, { force: true }));
  }

  private async write(text: string): Promise<void> {
    const temporary = path.join(path.dirname(this.file), `.${path.basename(this.file)}.${process.pid}.tmp`);
    try {
      await writeFile(temporary, text, { mode: 0o644 });
      await rename(temporary, this.file);
      this.failure = '';
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined);
      const message = (error as Error).message;
      // Once per distinct failure: a full /run must not fill the journal too.
      if (message !== this.failure) {
        this.failure = message;
        this.logger.warn(`cannot write the status view ${this.file}: ${message}`, { operation: 'health' });
      }
    }
  }
}

function lastViewPath(file: string): string {
  return path.join(path.dirname(file), LAST_DAEMON_VIEW_FILE);
}

/**
 * Each device's conditions as the previous daemon left them: from the view a
 * crashed daemon left behind (its process gone), else from the last view a
 * stopped one kept. Empty when there is neither, or they cannot be read.
 */
export async function readPreviousConditions(file: string): Promise<Map<string, Condition[]>> {
  for (const candidate of [file, lastViewPath(file)]) {
    const view = await readView(candidate);
    if (!view || (candidate === file && alive(view.pid))) continue;
    return new Map(view.devices.map((device) => [device.name, device.conditions]));
  }
  return new Map();
}

async function readView(file: string): Promise<DaemonView | undefined> {
  try {
    const view = JSON.parse(await readFile(file, 'utf8')) as DaemonView;
    return Number.isInteger(view.pid) && Array.isArray(view.devices) ? view : undefined;
  } catch {
    return undefined;
  }
}

/** What a running daemon last saw of a device that `status` cannot see itself. */
export type DaemonDeviceView = Pick<DeviceStatus, 'conditions' | 'remapsLastDay'>;

/** Each device's conditions (and remaps in the last day) as a running daemon last saw them; undefined without a live daemon's view. */
export async function readDaemonView(file: string): Promise<Map<string, DaemonDeviceView> | undefined> {
  const view = await readView(file);
  if (!view || !alive(view.pid)) return undefined;
  return new Map(
    view.devices.map((device) => [
      device.name,
      {
        conditions: device.conditions,
        ...(device.remapsLastDay !== undefined ? { remapsLastDay: device.remapsLastDay } : {}),
      },
    ]),
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else (status run by a user beside root's daemon).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
