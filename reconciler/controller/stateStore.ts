/**
 * Keeps the applied-state records (appliedState.ts) on disk, one JSON file
 * per device under `<state dir>/devices/`, so they outlive the daemon, a
 * removal and a reboot. A write is atomic and durable: a temporary file is
 * written and fsynced, renamed over the record, and the directory fsynced, so
 * a crash leaves the old record or the new one, never a torn one. A file that
 * cannot be parsed is reported as corrupt and kept as it is for the operator.
 */
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { APPLIED_STATE_VERSION } from './appliedState.js';
import type { AppliedDeviceRecord, AppliedRead } from './appliedState.js';

export const DEFAULT_STATE_DIR = '/var/lib/dm-remap';

const RECORD_SUFFIX = '.json';

export interface AppliedStateStore {
  /** Where the records live, for messages. */
  readonly location: string;
  /** Every record on disk, by device name; a missing store reads as empty. */
  loadAll(): Promise<Map<string, AppliedRead>>;
  write(record: AppliedDeviceRecord): Promise<void>;
  forget(name: string): Promise<void>;
}

/** Records as files under `dir/devices`. */
export class FileStateStore implements AppliedStateStore {
  private readonly devicesDir: string;

  constructor(readonly dir: string) {
    this.devicesDir = join(dir, 'devices');
  }

  get location(): string {
    return this.devicesDir;
  }

  async loadAll(): Promise<Map<string, AppliedRead>> {
    const records = new Map<string, AppliedRead>();
    let names: string[];
    try {
      names = await readdir(this.devicesDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return records;
      throw error;
    }
    for (const entry of names.sort()) {
      if (!entry.endsWith(RECORD_SUFFIX)) continue;
      const name = entry.slice(0, -RECORD_SUFFIX.length);
      const file = join(this.devicesDir, entry);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        records.set(name, { state: 'corrupt', file, reason: `cannot read it: ${(error as Error).message}` });
        continue;
      }
      records.set(name, parseRecord(name, file, text));
    }
    return records;
  }

  async write(record: AppliedDeviceRecord): Promise<void> {
    await mkdir(this.devicesDir, { recursive: true, mode: 0o700 });
    const target = join(this.devicesDir, `${record.name}${RECORD_SUFFIX}`);
    const temporary = `${target}.tmp-${process.pid}`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(record, null, 2) + '\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
    await syncDirectory(this.devicesDir);
  }

  async forget(name: string): Promise<void> {
    await rm(join(this.devicesDir, `${name}${RECORD_SUFFIX}`), { force: true });
    await syncDirectory(this.devicesDir).catch(() => undefined);
  }
}

/** Records in memory: unit tests, and the read-only verbs' view of a store they must not write. */
export class MemoryStateStore implements AppliedStateStore {
  readonly location = 'memory';
  readonly records = new Map<string, AppliedRead>();

  loadAll(): Promise<Map<string, AppliedRead>> {
    return Promise.resolve(new Map(this.records));
  }
  write(record: AppliedDeviceRecord): Promise<void> {
    this.records.set(record.name, { state: 'ok', record: structuredClone(record) });
    return Promise.resolve();
  }
  forget(name: string): Promise<void> {
    this.records.delete(name);
    return Promise.resolve();
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Parse one record file; anything unexpected makes it corrupt, with the reason. */
export function parseRecord(name: string, file: string, text: string): AppliedRead {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { state: 'corrupt', file, reason: `not JSON (${(error as Error).message})` };
  }
  const problem = recordProblem(value, name);
  return problem
    ? { state: 'corrupt', file, reason: problem }
    : { state: 'ok', record: value as AppliedDeviceRecord };
}

function recordProblem(value: unknown, name: string): string | undefined {
  if (!isObject(value)) return 'not a JSON object';
  if (value.version !== APPLIED_STATE_VERSION)
    return `version ${String(value.version)} is not ${APPLIED_STATE_VERSION}`;
  if (value.name !== name) return `it names device ${String(value.name)}, not ${name}`;
  const spec = value.spec;
  if (!isObject(spec) || spec.name !== name || typeof spec.spareDevice !== 'string') return 'no valid spec';
  if (typeof spec.mainDevice !== 'string' || typeof spec.blockSizeBytes !== 'number') return 'no valid spec';
  const spare = value.spare;
  if (!isObject(spare) || typeof spare.path !== 'string' || typeof spare.majorMinor !== 'string') {
    return 'no valid spare';
  }
  for (const field of ['identity', 'formatId'] as const) {
    if (spare[field] !== undefined && typeof spare[field] !== 'string')
      return `spare.${field} is not a string`;
  }
  for (const field of ['blockSizeBytes', 'remappedBlocks', 'pendingBlocks'] as const) {
    const count = value[field];
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0)
      return `${field} is not a count`;
  }
  if (typeof value.statusUnknown !== 'boolean') return 'statusUnknown is not a boolean';
  if (typeof value.recordedAt !== 'string') return 'recordedAt is not a string';
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
