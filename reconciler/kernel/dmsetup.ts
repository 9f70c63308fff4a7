/**
 * DmsetupKernel: the KernelAdapter that drives the real device-mapper through
 * dmsetup and modprobe (argument arrays, never a shell; every process with a
 * timeout and the caller's AbortSignal).
 *
 * Observation is batched: three processes per pass whatever the number of
 * devices (info -c, table --concise, status), and `targets` only when sysfs
 * cannot tell whether the module is loaded (module-state.ts). Creates and removes
 * made within a short window are coalesced into one process, and a failed
 * batch is attributed per device afterwards. Every mutation first looks the
 * device up and refuses one whose UUID lacks the owned prefix; single-device
 * mutations then address the device by that UUID (`-u`), so a device renamed
 * or replaced in between by another tool is never the one changed.
 */
import { KernelError, MODULE_NAME, TARGET_NAME } from './adapter.js';
import type {
  BlockDeviceInfo,
  DesiredTable,
  KernelAdapter,
  KernelObservation,
  ObservedDevice,
  SpareMetadata,
} from './adapter.js';
import { inspectBlockDevice } from './block-device.js';
import { readSpareMetadata } from './spare-superblock.js';
import { deviceQueues } from './device-queues.js';
import type { DeviceQueues } from './device-queues.js';
import type { ItemOutcome, Scheduler } from './coalesce.js';
import { kernelErrorFromProcess } from './dmsetup-errors.js';
import {
  formatConcise,
  INFO_ARGS,
  parseConciseTables,
  parseInfoColumns,
  parseNamedLines,
  parseTargets,
} from './dmsetup-parse.js';
import type { ConciseDevice, DeviceLines, InfoRow } from './dmsetup-parse.js';
import {
  alreadyExistsError,
  deviceOpenError,
  isOwnedUuid,
  noSuchDeviceError,
  notOwnedError,
  refuseSetUuid,
} from './errors.js';
import { moduleLiveInSysfs } from './module-state.js';
import { runProcess } from './process.js';
import type { ProcessRunner } from './process.js';
import { readRemap, singleRemapLine } from './status.js';

/**
 * The environment dmsetup and modprobe run with on top of the inherited one.
 * Error codes are read from their English messages (dmsetup-errors.ts), and a
 * service inherits the host's LANG: the C locale keeps those messages English.
 */
const PROCESS_ENV: Readonly<Record<string, string>> = { LC_ALL: 'C', LANG: 'C' };

export interface DmsetupKernelOptions {
  dmsetup?: string;
  modprobe?: string;
  /** Timeout of each observing process (default 10 s). */
  observeTimeoutMs?: number;
  /** Timeout of each mutating process (default 60 s: suspend waits for in-flight I/O). */
  mutateTimeoutMs?: number;
  /** Coalescing window for create/remove (default 20 ms). */
  batchWindowMs?: number;
  scheduler?: Scheduler;
  /** Replaces process spawning (tests count or fake processes with it). */
  runner?: ProcessRunner;
  /** Where sysfs is mounted (default /sys; tests hand in a directory of their own). */
  sysfsRoot?: string;
}

export class DmsetupKernel implements KernelAdapter {
  private readonly dmsetupPath: string;
  private readonly modprobePath: string;
  private readonly observeTimeoutMs: number;
  private readonly mutateTimeoutMs: number;
  private readonly runner: ProcessRunner;
  private readonly queues: DeviceQueues;
  private readonly sysfsRoot: string;

  constructor(options: DmsetupKernelOptions = {}) {
    this.sysfsRoot = options.sysfsRoot ?? '/sys';
    this.dmsetupPath = options.dmsetup ?? 'dmsetup';
    this.modprobePath = options.modprobe ?? 'modprobe';
    this.observeTimeoutMs = options.observeTimeoutMs ?? 10_000;
    this.mutateTimeoutMs = options.mutateTimeoutMs ?? 60_000;
    this.runner = options.runner ?? runProcess;
    this.queues = deviceQueues(
      (items) => this.createBatch(items),
      (names) => this.removeBatch(names),
      options.batchWindowMs ?? 20,
      options.scheduler,
    );
  }

  // ---- observation ------------------------------------------------------

  async observe(signal?: AbortSignal): Promise<KernelObservation> {
    // The listing comes first: it decides which devices exist, and its names
    // are what the status lines are matched against.
    const rows = await this.listDevices(signal);
    const [concise, status, moduleLoaded] = await Promise.all([
      this.dmsetup(['table', '--concise'], 'observe', undefined, signal, this.observeTimeoutMs),
      this.dmsetup(['status'], 'observe', undefined, signal, this.observeTimeoutMs),
      this.moduleLoaded(signal),
    ]);
    const tables = new Map(
      parsed(() => parseConciseTables(concise)).map((device) => [device.name, device] as const),
    );
    const statuses = parseNamedLines(
      status,
      rows.map((row) => row.name),
    );
    return {
      moduleLoaded,
      devices: rows
        .map((row) => observedDevice(row, tables.get(row.name), statuses.get(row.name)))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    };
  }

  inspectBlockDevice(path: string, signal?: AbortSignal): Promise<BlockDeviceInfo | undefined> {
    return inspectBlockDevice(path, signal);
  }

  readSpareMetadata(path: string, signal?: AbortSignal): Promise<SpareMetadata> {
    return readSpareMetadata(path, signal);
  }

  async loadModule(signal?: AbortSignal): Promise<void> {
    if ((await this.targets(signal)).includes(TARGET_NAME)) return;
    try {
      await this.runner(this.modprobePath, [MODULE_NAME], {
        timeoutMs: this.mutateTimeoutMs,
        env: { ...PROCESS_ENV },
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      throw kernelErrorFromProcess(error, 'loadModule');
    }
    if (!(await this.targets(signal)).includes(TARGET_NAME)) {
      throw new KernelError(
        `modprobe ${MODULE_NAME} succeeded but device-mapper has no "${TARGET_NAME}" target`,
        'loadModule',
        undefined,
        'ENOENT',
      );
    }
  }

  // ---- mutations --------------------------------------------------------

  async create(desired: DesiredTable, signal?: AbortSignal): Promise<void> {
    if (!isOwnedUuid(desired.uuid)) throw notOwnedError('create', desired.name, desired.uuid);
    return this.queues.create.submit(desired, signal);
  }

  async load(desired: DesiredTable, signal?: AbortSignal): Promise<void> {
    const uuid = await this.ownedUuid('load', desired.name, signal);
    // The table goes through stdin so multi-line tables need no temporary file.
    await this.dmsetup(
      ['load', '-u', uuid],
      'load',
      desired.name,
      signal,
      this.mutateTimeoutMs,
      desired.table,
    );
  }

  async suspend(name: string, signal?: AbortSignal): Promise<void> {
    const uuid = await this.ownedUuid('suspend', name, signal);
    await this.dmsetup(['suspend', '-u', uuid], 'suspend', name, signal, this.mutateTimeoutMs);
  }

  async resume(name: string, signal?: AbortSignal): Promise<void> {
    const uuid = await this.ownedUuid('resume', name, signal);
    await this.dmsetup(['resume', '-u', uuid], 'resume', name, signal, this.mutateTimeoutMs);
  }

  async clearInactive(name: string, signal?: AbortSignal): Promise<void> {
    const uuid = await this.ownedUuid('clearInactive', name, signal);
    await this.dmsetup(['clear', '-u', uuid], 'clearInactive', name, signal, this.mutateTimeoutMs);
  }

  async remove(name: string, signal?: AbortSignal): Promise<void> {
    return this.queues.remove.submit(name, signal);
  }

  async message(name: string, args: string[], signal?: AbortSignal): Promise<string> {
    const uuid = await this.ownedUuid('message', name, signal);
    const reply = await this.dmsetup(
      ['message', '-u', uuid, '--', '0', ...args],
      'message',
      name,
      signal,
      this.mutateTimeoutMs,
    );
    return reply.replace(/\n$/, '');
  }

  async setUuid(name: string, uuid: string, signal?: AbortSignal): Promise<void> {
    const row = (await this.listDevices(signal)).find((candidate) => candidate.name === name);
    refuseSetUuid(name, uuid, row?.uuid);
    await this.dmsetup(
      ['rename', '--setuuid', '--', name, uuid],
      'setUuid',
      name,
      signal,
      this.mutateTimeoutMs,
    );
  }

  // ---- batches ----------------------------------------------------------

  private async createBatch(items: readonly DesiredTable[]): Promise<ItemOutcome<void>[]> {
    const spec = formatConcise(
      items.map((item) => ({ name: item.name, uuid: item.uuid, table: tableLines(item.table) })),
    );
    try {
      await this.dmsetup(
        ['create', '--concise', '--', spec],
        'create',
        undefined,
        undefined,
        this.mutateTimeoutMs,
      );
      return items.map(() => ({ ok: true, value: undefined }));
    } catch (batchError) {
      return this.attributeCreateFailure(items, batchError);
    }
  }

  /**
   * After a failed batch, look at what exists: a device with the requested
   * name, UUID and a live table was created before the failure; a name held by
   * someone else is EEXIST (or ENOTOWNED when the holder is foreign); the rest
   * are retried one by one so each gets the kernel's own reason.
   */
  private async attributeCreateFailure(
    items: readonly DesiredTable[],
    batchError: unknown,
  ): Promise<ItemOutcome<void>[]> {
    let rows: InfoRow[];
    try {
      rows = await this.listDevices(undefined);
    } catch (listError) {
      return items.map(() => ({ ok: false, error: kernelErrorFromProcess(listError, 'create') }));
    }
    const outcomes: ItemOutcome<void>[] = [];
    for (const item of items) {
      const holder = rows.find((row) => row.name === item.name);
      const uuidHolder = rows.find((row) => row.uuid === item.uuid);
      if (holder && holder.uuid === item.uuid && holder.hasLiveTable) {
        outcomes.push({ ok: true, value: undefined });
      } else if (holder && !isOwnedUuid(holder.uuid)) {
        outcomes.push({ ok: false, error: notOwnedError('create', item.name, holder.uuid) });
      } else if (holder || uuidHolder) {
        outcomes.push({ ok: false, error: alreadyExistsError(item, holder ? undefined : uuidHolder!.name) });
      } else if (items.length === 1) {
        outcomes.push({ ok: false, error: kernelErrorFromProcess(batchError, 'create', item.name) });
      } else {
        outcomes.push(await this.createOne(item));
      }
    }
    return outcomes;
  }

  private async createOne(item: DesiredTable): Promise<ItemOutcome<void>> {
    const spec = formatConcise([{ name: item.name, uuid: item.uuid, table: tableLines(item.table) }]);
    try {
      await this.dmsetup(
        ['create', '--concise', '--', spec],
        'create',
        item.name,
        undefined,
        this.mutateTimeoutMs,
      );
      return { ok: true, value: undefined };
    } catch (error) {
      return { ok: false, error: kernelErrorFromProcess(error, 'create', item.name) };
    }
  }

  private async removeBatch(names: readonly string[]): Promise<ItemOutcome<void>[]> {
    const outcomes = new Map<string, ItemOutcome<void>>();
    let rows: InfoRow[];
    try {
      rows = await this.listDevices(undefined);
    } catch (error) {
      return names.map((name) => ({ ok: false, error: kernelErrorFromProcess(error, 'remove', name) }));
    }
    const removable: string[] = [];
    for (const name of new Set(names)) {
      const row = rows.find((candidate) => candidate.name === name);
      if (!row) outcomes.set(name, { ok: false, error: noSuchDeviceError('remove', name) });
      else if (!isOwnedUuid(row.uuid))
        outcomes.set(name, { ok: false, error: notOwnedError('remove', name, row.uuid) });
      else removable.push(name);
    }
    if (removable.length > 0) {
      try {
        // --retry: udev's probing of a device can hold it open for a moment after
        // any change; dmsetup then retries briefly instead of failing with EBUSY.
        await this.dmsetup(
          ['remove', '--retry', '--', ...removable],
          'remove',
          undefined,
          undefined,
          this.mutateTimeoutMs,
        );
        for (const name of removable) outcomes.set(name, { ok: true, value: undefined });
      } catch (batchError) {
        await this.attributeRemoveFailure(removable, batchError, outcomes);
      }
    }
    return names.map((name) => outcomes.get(name)!);
  }

  /** A device still listed after a failed remove failed; one no longer listed was removed. */
  private async attributeRemoveFailure(
    names: readonly string[],
    batchError: unknown,
    outcomes: Map<string, ItemOutcome<void>>,
  ): Promise<void> {
    let rows: InfoRow[];
    try {
      rows = await this.listDevices(undefined);
    } catch (listError) {
      for (const name of names)
        outcomes.set(name, { ok: false, error: kernelErrorFromProcess(listError, 'remove', name) });
      return;
    }
    for (const name of names) {
      const row = rows.find((candidate) => candidate.name === name);
      if (!row) {
        outcomes.set(name, { ok: true, value: undefined });
      } else if (row.openCount > 0) {
        outcomes.set(name, { ok: false, error: deviceOpenError(name, row.openCount) });
      } else {
        outcomes.set(name, { ok: false, error: kernelErrorFromProcess(batchError, 'remove', name) });
      }
    }
  }

  // ---- helpers ----------------------------------------------------------

  private async listDevices(signal: AbortSignal | undefined): Promise<InfoRow[]> {
    const stdout = await this.dmsetup([...INFO_ARGS], 'observe', undefined, signal, this.observeTimeoutMs);
    return parsed(() => parseInfoColumns(stdout));
  }

  /** sysfs when it can tell (no process), else `dmsetup targets`. */
  private async moduleLoaded(signal: AbortSignal | undefined): Promise<boolean> {
    return (await moduleLiveInSysfs(this.sysfsRoot)) ?? (await this.targets(signal)).includes(TARGET_NAME);
  }

  private async targets(signal: AbortSignal | undefined): Promise<string[]> {
    return parseTargets(await this.dmsetup(['targets'], 'observe', undefined, signal, this.observeTimeoutMs));
  }

  /** Look the device up; ENXIO when missing, ENOTOWNED when its UUID is not ours. Returns its UUID. */
  private async ownedUuid(operation: string, name: string, signal: AbortSignal | undefined): Promise<string> {
    const row = (await this.listDevices(signal)).find((candidate) => candidate.name === name);
    if (!row) throw noSuchDeviceError(operation, name);
    if (!isOwnedUuid(row.uuid)) throw notOwnedError(operation, name, row.uuid);
    return row.uuid;
  }

  /**
   * Run dmsetup. Operands (names, the concise spec, message words) go after
   * `--`: dmsetup reads options anywhere on its command line (getopt_long),
   * so a name such as `--force` in `remove --retry A B` would otherwise be
   * taken for the option.
   */
  private async dmsetup(
    args: string[],
    operation: string,
    device: string | undefined,
    signal: AbortSignal | undefined,
    timeoutMs: number,
    input?: string,
  ): Promise<string> {
    try {
      const options = {
        timeoutMs,
        env: { ...PROCESS_ENV },
        ...(signal ? { signal } : {}),
        ...(input === undefined ? {} : { input }),
      };
      return (await this.runner(this.dmsetupPath, args, options)).stdout;
    } catch (error) {
      throw kernelErrorFromProcess(error, operation, device);
    }
  }
}

function tableLines(table: string): string[] {
  return table.split('\n').filter((line) => line.trim() !== '');
}

/** Output that cannot be parsed at all stops the pass: no device in it can be trusted. */
function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new KernelError(`dmsetup output: ${(error as Error).message}`, 'observe', undefined, 'EPROTO');
  }
}

function observedDevice(
  row: InfoRow,
  table: ConciseDevice | undefined,
  status: DeviceLines | undefined,
): ObservedDevice {
  const device: ObservedDevice = {
    name: row.name,
    uuid: row.uuid,
    owned: isOwnedUuid(row.uuid),
    major: row.major,
    minor: row.minor,
    suspended: row.suspended,
    hasInactiveTable: row.hasInactiveTable,
    hasLiveTable: row.hasLiveTable,
    openCount: row.openCount,
    table: [],
  };
  if (!row.hasLiveTable) return device;
  // What cannot be read is this device's alone: it is marked unreadable, for
  // no one to act on a guess about it, and every other device stands.
  if (table === undefined || table.table.length === 0) {
    const why = table?.unreadable ?? 'listed with a live table that `dmsetup table` did not print';
    return { ...device, unreadable: `table: ${why}` };
  }
  device.table = table.table;
  if (singleRemapLine(device.table) && status?.unreadable !== undefined) {
    return { ...device, unreadable: `status: ${status.unreadable}` };
  }
  return { ...device, ...readRemap(device.table, status?.lines ?? []) };
}
