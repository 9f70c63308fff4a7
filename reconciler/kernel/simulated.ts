/**
 * SimulatedKernel: an in-process device-mapper that obeys the same contract as
 * DmsetupKernel, so the reconciler's tests run in milliseconds and the shared
 * contract suite (tests/contract/) keeps the two honest.
 *
 * Modelled device-mapper semantics: live and inactive table slots, suspend
 * state, open counts (explicit opens plus tables stacked on a device), EBUSY
 * on remove while open, ENXIO for unknown devices and missing backing devices,
 * EINVAL for bad tables, the `remap` target unavailable until the module is
 * loaded, tables printed with major:minor, and the module's superblock on
 * each spare (simulated-spare.ts). Test hooks add block devices (with a disk
 * identity if wanted), foreign devices, remapped blocks, spare bytes,
 * failures on demand (see FaultPlan) and count calls: one count per process
 * the real adapter would run for a batch.
 */
import { KernelError, MODULE_NAME, TARGET_NAME } from './adapter.js';
import type {
  BlockDeviceInfo,
  DesiredTable,
  KernelAdapter,
  KernelObservation,
  ObservedDevice,
  RemapStatus,
  SpareMetadata,
  TableLine,
} from './adapter.js';
import { identityFrom, mainIdOf } from './disk-identity.js';
import { deviceQueues } from './device-queues.js';
import type { DeviceQueues } from './device-queues.js';
import type { ItemOutcome, Scheduler } from './coalesce.js';
import {
  alreadyExistsError,
  deviceOpenError,
  isOwnedUuid,
  noSuchDeviceError,
  notOwnedError,
  refuseSetUuid,
} from './errors.js';
import { FaultPlan } from './simulated-faults.js';
import type { CrashStep, FaultSpec, SimulatedOperation } from './simulated-faults.js';
import { SimulatedSpares } from './simulated-spare.js';
import { answerMessage } from './simulated-messages.js';
import type { SavedRemapRun } from './simulated-remaps.js';
import { constructTable } from './simulated-targets.js';
import type { SimulatedBlockDevice } from './simulated-targets.js';
import { formatRemapStatus, readRemap } from './status.js';
import { parseRemapTable } from './table.js';

export { SimulatedCrash } from './simulated-faults.js';
export type { CrashStep, FaultSpec, SimulatedOperation } from './simulated-faults.js';

/** Major number the kernel gives device-mapper devices on a typical system. */
const DM_MAJOR = 253;
/** Major number of loop devices, used for block devices tests register without one. */
const LOOP_MAJOR = 7;

export interface SimulatedKernelOptions {
  /** Coalescing window for create/remove (default 2 ms: long enough to batch concurrent calls, short for tests). */
  batchWindowMs?: number;
  /** Scheduler for the coalescing window (inject to flush deterministically). */
  scheduler?: Scheduler;
  /** Whether the module is already loaded at start (default false). */
  moduleLoaded?: boolean;
  /** Whether `modprobe dm-remap` can succeed (default true). */
  moduleInstalled?: boolean;
  /** How long an injected hang lasts before it fails with ETIMEDOUT (default 5000 ms). */
  hangTimeoutMs?: number;
}

/** A function the test installs to answer `dmsetup message` for remap devices. */
export type MessageHandler = (name: string, args: readonly string[]) => string;

interface SimDevice {
  name: string;
  uuid: string;
  minor: number;
  suspended: boolean;
  live?: TableLine[];
  inactive?: TableLine[];
  /** Opens by tests (a mounted filesystem, a process holding the node). */
  explicitOpens: number;
  /** Runtime counters of the remap target; reset when a new remap table goes live on a device that had none. */
  remapStatus: RemapStatus;
}

/** Call counts: one per process the real adapter would run (a coalesced batch counts once). */
export type CallCounts = Record<SimulatedOperation, number>;

export class SimulatedKernel implements KernelAdapter {
  /** Arm failures, hangs and crashes here. */
  readonly faults: FaultPlan;
  readonly calls: CallCounts = {
    observe: 0,
    inspectBlockDevice: 0,
    readSpareMetadata: 0,
    loadModule: 0,
    create: 0,
    load: 0,
    suspend: 0,
    resume: 0,
    clearInactive: 0,
    remove: 0,
    message: 0,
    setUuid: 0,
  };
  /** Names in each create/remove batch, in order: tests assert coalescing with these. */
  readonly batches: { create: string[][]; remove: string[][] } = { create: [], remove: [] };

  private readonly devices = new Map<string, SimDevice>();
  private readonly blockDevices = new Map<string, SimulatedBlockDevice>();
  /** The identity sysfs would show per disk ("M:m"), as disk-identity.ts composes it; none for most. */
  private readonly identities = new Map<string, string>();
  /** The superblocks the module wrote on each spare ("M:m") the first time a remap table using it went live. */
  private readonly spares = new SimulatedSpares();
  private nextLoopMinor = 0;
  private nextDmMinor = 0;
  private moduleLoaded: boolean;
  private moduleInstalled: boolean;
  private messageHandler: MessageHandler | undefined;
  /** Pending blocks per device (in memory only, as in the module). */
  private readonly pendingBlocks = new Map<string, number[]>();
  private readonly queues: DeviceQueues;

  constructor(options: SimulatedKernelOptions = {}) {
    const hangTimeoutMs = options.hangTimeoutMs ?? 5000;
    this.faults = new FaultPlan(() => hangTimeoutMs);
    this.moduleLoaded = options.moduleLoaded ?? false;
    this.moduleInstalled = options.moduleInstalled ?? true;
    this.queues = deviceQueues(
      (items) => this.createBatch(items),
      (names) => this.removeBatch(names),
      options.batchWindowMs ?? 2,
      options.scheduler,
    );
  }

  // ---- test hooks -------------------------------------------------------

  /**
   * Register a backing block device (a disk or loop device) at `path`, with
   * the stable identity its sysfs would show (e.g. "naa.5000c50000000001";
   * none, like a loop device, when omitted).
   */
  addBlockDevice(
    path: string,
    sizeSectors: number,
    majorMinor?: { major: number; minor: number },
    identity?: string,
  ): BlockDeviceInfo {
    const device = {
      major: majorMinor?.major ?? LOOP_MAJOR,
      minor: majorMinor?.minor ?? this.nextLoopMinor++,
      sizeSectors,
    };
    this.blockDevices.set(path, device);
    if (identity !== undefined) this.identities.set(`${device.major}:${device.minor}`, identity);
    return this.blockDeviceInfo(path, device);
  }

  /** Make `path` a symlink to the device at `target` (re-pointing it if it exists): udev names, /run/disks/... */
  linkBlockDevice(path: string, target: string): void {
    const device = this.blockDevices.get(target);
    if (!device) throw new Error(`simulated block device ${target} does not exist`);
    this.blockDevices.set(path, device);
  }

  /** Write raw bytes into the first 8 KiB of a block device (a damaged or pre-formatted spare). */
  writeBlockDevice(path: string, offset: number, bytes: Uint8Array): void {
    const device = this.resolve(path);
    if (!device) throw new Error(`simulated block device ${path} does not exist`);
    this.spares.write(`${device.major}:${device.minor}`, offset, bytes);
  }

  /** The first 8 KiB of a block device as the simulator holds them (all zero unless written). */
  blockDeviceHeader(path: string): Uint8Array {
    const device = this.resolve(path);
    if (!device) throw new Error(`simulated block device ${path} does not exist`);
    return this.spares.header(`${device.major}:${device.minor}`);
  }

  /** Make `path` vanish (a disk unplugged); tables already loaded keep their reference. */
  removeBlockDevice(path: string): void {
    this.blockDevices.delete(path);
  }

  /** Create a device as another tool would (no or foreign UUID), bypassing ownership checks. */
  addForeignDevice(name: string, uuid: string, table?: string): void {
    if (this.devices.has(name)) throw new Error(`simulated device ${name} already exists`);
    const device = this.newDevice(name, uuid);
    if (table !== undefined) device.live = this.construct(name, table);
    this.devices.set(name, device);
  }

  /**
   * Leave a half-done owned device, as `dmsetup create --notable` (and
   * optionally a `load` without `resume`) would: what a crash mid-create leaves.
   */
  addHalfCreatedDevice(name: string, uuid: string, inactiveTable?: string): void {
    if (this.devices.has(name)) throw new Error(`simulated device ${name} already exists`);
    const device = this.newDevice(name, uuid);
    if (inactiveTable !== undefined) {
      device.inactive = this.construct(name, inactiveTable);
    }
    this.devices.set(name, device);
  }

  /** Hold a device open (like a mounted filesystem); returns the matching close. */
  open(name: string): () => void {
    const device = this.mustExist('open', name);
    device.explicitOpens += 1;
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      device.explicitOpens -= 1;
    };
  }

  /** Record blocks the target remapped (spare_used and remapped grow together). */
  injectRemappedBlocks(name: string, count: number): void {
    const device = this.mustExist('injectRemappedBlocks', name);
    const spare = device.live?.[0]?.targetType === TARGET_NAME ? this.liveSpareOf(device) : undefined;
    if (spare !== undefined) this.spares.addRemaps(spare, count);
    const status = device.remapStatus;
    status.remappedBlocks += count;
    status.spareBlocksUsed += count;
    status.metadataSequence += 1;
    if (status.spareBlocksUsed >= status.spareBlocksTotal) status.health = 'spare_full';
  }

  /** Blocks main could not read (what `list_pending` lists); the status counts them. */
  markPending(name: string, blocks: readonly number[]): void {
    const device = this.mustExist('markPending', name);
    const pending = [...new Set([...(this.pendingBlocks.get(name) ?? []), ...blocks])].sort((a, b) => a - b);
    this.pendingBlocks.set(name, pending);
    device.remapStatus.pendingBlocks = pending.length;
  }

  /** The remaps on the spare of a live remap device, in their saved form (see restoreRemaps). */
  savedRemaps(name: string): SavedRemapRun[] | undefined {
    const spare = this.liveSpareOf(this.mustExist('savedRemaps', name));
    return spare === undefined ? undefined : this.spares.remapsOf(spare).toJSON();
  }

  /** Put back the remaps savedRemaps() gave, with the counts the status shows. */
  restoreRemaps(name: string, saved: unknown): void {
    const device = this.mustExist('restoreRemaps', name);
    const spare = this.liveSpareOf(device);
    if (spare === undefined) throw new Error(`simulated device ${name} has no live remap table`);
    this.spares.restoreRemaps(spare, saved);
    const count = this.spares.remapCount(spare);
    Object.assign(device.remapStatus, { remappedBlocks: count, spareBlocksUsed: count });
  }

  /** Overwrite parts of a device's remap status (health, error counters, unknown keys...). */
  setRemapStatus(name: string, change: Partial<RemapStatus>): void {
    const device = this.mustExist('setRemapStatus', name);
    device.remapStatus = { ...device.remapStatus, ...change };
  }

  setModuleInstalled(installed: boolean): void {
    this.moduleInstalled = installed;
  }

  /** Answer `message` calls to remap devices (default: `clear_stats` as the module does it, anything else EINVAL). */
  onMessage(handler: MessageHandler): void {
    this.messageHandler = handler;
  }

  /** Shorthand for faults.fail(). */
  failNext(operation: SimulatedOperation, spec?: FaultSpec): void {
    this.faults.fail(operation, spec);
  }

  /** Shorthand for faults.crashAt(). */
  crashAt(operation: SimulatedOperation, step: CrashStep, device?: string): void {
    this.faults.crashAt(operation, step, device);
  }

  /** Shorthand for faults.garbleStatus(). */
  garbleStatus(name: string, printed: string): void {
    this.faults.garbleStatus(name, printed);
  }

  // ---- KernelAdapter ----------------------------------------------------

  async observe(signal?: AbortSignal): Promise<KernelObservation> {
    await this.faults.enter('observe', undefined, signal);
    this.calls.observe += 1;
    const references = this.tableReferences();
    const devices = [...this.devices.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((device) => this.observeDevice(device, references));
    this.faults.crashIfArmed('observe', 'after', undefined);
    return { moduleLoaded: this.moduleLoaded, devices };
  }

  async inspectBlockDevice(path: string, signal?: AbortSignal): Promise<BlockDeviceInfo | undefined> {
    await this.faults.enter('inspectBlockDevice', path, signal);
    this.calls.inspectBlockDevice += 1;
    const device = this.resolve(path);
    return device && this.blockDeviceInfo(path, device);
  }

  async readSpareMetadata(path: string, signal?: AbortSignal): Promise<SpareMetadata> {
    await this.faults.enter('readSpareMetadata', path, signal);
    this.calls.readSpareMetadata += 1;
    const device = this.resolve(path);
    if (!device) return { state: 'unknown', reason: `cannot read ${path}: no such device` };
    return this.spares.metadata(`${device.major}:${device.minor}`);
  }

  async loadModule(signal?: AbortSignal): Promise<void> {
    await this.faults.enter('loadModule', undefined, signal);
    if (this.moduleLoaded) return; // the real adapter checks first and runs no modprobe
    this.calls.loadModule += 1;
    if (!this.moduleInstalled) {
      throw new KernelError(`modprobe: module ${MODULE_NAME} not found`, 'loadModule', undefined, 'ENOENT');
    }
    this.moduleLoaded = true;
    this.faults.crashIfArmed('loadModule', 'after', undefined);
  }

  async create(desired: DesiredTable, signal?: AbortSignal): Promise<void> {
    if (!isOwnedUuid(desired.uuid)) throw notOwnedError('create', desired.name, desired.uuid);
    await this.faults.enter('create', desired.name, signal);
    return this.queues.create.submit(desired, signal);
  }

  async load(desired: DesiredTable, signal?: AbortSignal): Promise<void> {
    const device = this.mustBeOwned('load', desired.name);
    await this.faults.enter('load', desired.name, signal);
    this.calls.load += 1;
    device.inactive = this.construct(desired.name, desired.table);
    this.faults.crashIfArmed('load', 'after', desired.name);
  }

  async suspend(name: string, signal?: AbortSignal): Promise<void> {
    const device = this.mustBeOwned('suspend', name);
    await this.faults.enter('suspend', name, signal);
    this.calls.suspend += 1;
    device.suspended = true;
    this.faults.crashIfArmed('suspend', 'after', name);
  }

  async resume(name: string, signal?: AbortSignal): Promise<void> {
    const device = this.mustBeOwned('resume', name);
    await this.faults.enter('resume', name, signal);
    this.calls.resume += 1;
    this.resumeDevice(device);
    this.faults.crashIfArmed('resume', 'after', name);
  }

  async clearInactive(name: string, signal?: AbortSignal): Promise<void> {
    const device = this.mustBeOwned('clearInactive', name);
    await this.faults.enter('clearInactive', name, signal);
    this.calls.clearInactive += 1;
    delete device.inactive;
    this.faults.crashIfArmed('clearInactive', 'after', name);
  }

  async remove(name: string, signal?: AbortSignal): Promise<void> {
    this.mustBeOwned('remove', name);
    await this.faults.enter('remove', name, signal);
    return this.queues.remove.submit(name, signal);
  }

  async message(name: string, args: string[], signal?: AbortSignal): Promise<string> {
    const device = this.mustBeOwned('message', name);
    await this.faults.enter('message', name, signal);
    this.calls.message += 1;
    const live = device.live;
    if (!live) throw new KernelError(`message ${name}: device has no live table`, 'message', name, 'EINVAL');
    const refuse = () =>
      new KernelError(
        `message ${name}: target does not accept "${args.join(' ')}"`,
        'message',
        name,
        'EINVAL',
      );
    if (live[0]?.targetType !== TARGET_NAME) throw refuse();
    if (this.messageHandler) return this.messageHandler(name, args);
    // Without a test handler, answer what the module answers (simulated-messages.ts).
    const spare = this.liveSpareOf(device);
    if (spare === undefined) throw refuse();
    const table = parseRemapTable(live[0]);
    return answerMessage(
      {
        name,
        blocks: table.lengthSectors / table.blockSizeSectors,
        blockSectors: table.blockSizeSectors,
        resumed: !device.suspended,
        remaps: this.spares.remapsOf(spare),
        pending: this.pendingBlocks.get(name) ?? [],
        status: device.remapStatus,
      },
      args,
    );
  }

  async setUuid(name: string, uuid: string, signal?: AbortSignal): Promise<void> {
    const device = this.devices.get(name);
    refuseSetUuid(name, uuid, device?.uuid);
    await this.faults.enter('setUuid', name, signal);
    this.calls.setUuid += 1;
    const holder = [...this.devices.values()].find((other) => other.uuid === uuid);
    if (holder) {
      throw new KernelError(
        `setUuid ${name}: UUID ${uuid} is used by ${holder.name}`,
        'setUuid',
        name,
        'EBUSY',
      );
    }
    device!.uuid = uuid;
    this.faults.crashIfArmed('setUuid', 'after', name);
  }

  // ---- internals --------------------------------------------------------

  private createBatch(items: readonly DesiredTable[]): Promise<ItemOutcome<void>[]> {
    this.calls.create += 1;
    this.batches.create.push(items.map((item) => item.name));
    const outcomes = items.map((item): ItemOutcome<void> => {
      try {
        this.createOne(item);
        return { ok: true, value: undefined };
      } catch (error) {
        if (!(error instanceof KernelError)) throw error; // a SimulatedCrash ends the whole batch
        return { ok: false, error };
      }
    });
    return Promise.resolve(outcomes);
  }

  /** The three steps `dmsetup create` takes, with the crash points between them. */
  private createOne(item: DesiredTable): void {
    const holder = this.devices.get(item.name);
    if (holder) {
      if (!isOwnedUuid(holder.uuid)) throw notOwnedError('create', item.name, holder.uuid);
      throw alreadyExistsError(item);
    }
    const uuidHolder = [...this.devices.values()].find((device) => device.uuid === item.uuid);
    if (uuidHolder) throw alreadyExistsError(item, uuidHolder.name);
    // Validate before creating: dmsetup removes the device again when its table
    // fails to load, so a bad table leaves nothing behind.
    const table = this.construct(item.name, item.table);
    const device = this.newDevice(item.name, item.uuid);
    this.devices.set(item.name, device);
    this.faults.crashIfArmed('create', 'afterCreate', item.name);
    device.inactive = table;
    this.faults.crashIfArmed('create', 'afterLoad', item.name);
    this.resumeDevice(device);
    this.faults.crashIfArmed('create', 'after', item.name);
  }

  private removeBatch(names: readonly string[]): Promise<ItemOutcome<void>[]> {
    this.calls.remove += 1;
    this.batches.remove.push([...names]);
    const outcomes = names.map((name): ItemOutcome<void> => {
      const device = this.devices.get(name);
      if (!device) return { ok: false, error: noSuchDeviceError('remove', name) };
      if (!isOwnedUuid(device.uuid)) return { ok: false, error: notOwnedError('remove', name, device.uuid) };
      const openCount = this.openCount(device);
      if (openCount > 0) return { ok: false, error: deviceOpenError(name, openCount) };
      this.devices.delete(name);
      this.faults.crashIfArmed('remove', 'after', name);
      return { ok: true, value: undefined };
    });
    return Promise.resolve(outcomes);
  }

  /** device-mapper's resume: swap in an inactive table (suspending first if needed), then unsuspend. */
  private resumeDevice(device: SimDevice): void {
    if (device.inactive) {
      const hadRemap = device.live?.[0]?.targetType === TARGET_NAME;
      device.live = device.inactive;
      delete device.inactive;
      this.formatSpare(device.live);
      if (!hadRemap) {
        // The module loads the spare's table: the remaps it holds are the device's from the start.
        device.remapStatus = this.freshRemapStatus(device.live);
        const spare = this.liveSpareOf(device);
        const loaded = spare === undefined ? 0 : this.spares.remapCount(spare);
        Object.assign(device.remapStatus, { remappedBlocks: loaded, spareBlocksUsed: loaded });
      } else device.remapStatus.spareBlocksTotal = this.freshRemapStatus(device.live).spareBlocksTotal;
      device.suspended = false;
      return;
    }
    if (device.suspended && !device.live) {
      throw new KernelError(`resume ${device.name}: no table to resume`, 'resume', device.name, 'EINVAL');
    }
    device.suspended = false;
  }

  /** Load-time checks of a table for `name`, including the remap module's checks of the spare. */
  private construct(name: string, table: string): TableLine[] {
    return constructTable(
      name,
      table,
      (ref) => this.resolve(ref),
      this.moduleLoaded,
      (spare, remap) => {
        const refuse = (message: string, code = 'EINVAL') =>
          new KernelError(`load ${name}: remap: ${message}`, 'load', name, code);
        const user = [...this.devices.values()].find(
          (other) =>
            other.name !== name &&
            [...(other.live ?? []), ...(other.inactive ?? [])].some(
              (line) => line.targetType === TARGET_NAME && line.args.split(' ')[1] === spare,
            ),
        );
        if (user) throw refuse('Spare device is in use by another device', 'EBUSY');
        this.spares.check(spare, remap, this.resolve(spare)?.sizeSectors ?? 0, refuse);
      },
    );
  }

  /** The spare of a live remap table, keyed as the spares are (the table's major:minor). */
  private liveSpareOf(device: SimDevice): string | undefined {
    const line =
      device.live?.length === 1 && device.live[0]?.targetType === TARGET_NAME ? device.live[0] : undefined;
    return line ? parseRemapTable(line).spareDevice : undefined;
  }

  /** The module formats a blank spare when its first table goes live (preresume). */
  private formatSpare(table: readonly TableLine[]): void {
    const line = table.length === 1 && table[0]?.targetType === TARGET_NAME ? table[0] : undefined;
    if (!line) return;
    const remap = parseRemapTable(line);
    this.spares.formatIfBlank(remap.spareDevice, remap, this.resolve(remap.spareDevice)?.sizeSectors ?? 0);
  }

  private observeDevice(device: SimDevice, references: ReadonlyMap<string, number>): ObservedDevice {
    const table = device.live ?? [];
    const observed: ObservedDevice = {
      name: device.name,
      uuid: device.uuid,
      owned: isOwnedUuid(device.uuid),
      major: DM_MAJOR,
      minor: device.minor,
      suspended: device.suspended,
      hasInactiveTable: device.inactive !== undefined,
      hasLiveTable: device.live !== undefined,
      openCount: device.explicitOpens + (references.get(`${DM_MAJOR}:${device.minor}`) ?? 0),
      table: table.map((line) => ({ ...line })),
    };
    // Round-trip through the printed form, exactly as the real adapter parses dmsetup's output.
    const printed = this.faults.garbledStatus(device.name) ?? formatRemapStatus(device.remapStatus);
    const status = table.map((line) => ({ ...line, args: line.targetType === TARGET_NAME ? printed : '' }));
    return { ...observed, ...readRemap(table, status) };
  }

  /** Explicit opens plus every table (live or inactive) of another device that references this one. */
  private openCount(device: SimDevice): number {
    return device.explicitOpens + (this.tableReferences().get(`${DM_MAJOR}:${device.minor}`) ?? 0);
  }

  /**
   * Per "major:minor", how many table lines (live or inactive) name it: one
   * walk over every table, so an observation costs the same per device
   * whatever the number of devices.
   */
  private tableReferences(): Map<string, number> {
    const references = new Map<string, number>();
    for (const other of this.devices.values()) {
      for (const line of [...(other.live ?? []), ...(other.inactive ?? [])]) {
        for (const word of new Set(line.args.split(' ')))
          references.set(word, (references.get(word) ?? 0) + 1);
      }
    }
    return references;
  }

  private resolve(reference: string): SimulatedBlockDevice | undefined {
    const byPath = this.blockDevices.get(reference);
    if (byPath) return byPath;
    const dmName = reference.startsWith('/dev/mapper/') ? reference.slice('/dev/mapper/'.length) : undefined;
    const dmDevice = dmName === undefined ? undefined : this.devices.get(dmName);
    if (dmDevice) return this.asBlockDevice(dmDevice);
    const match = /^(\d+):(\d+)$/.exec(reference);
    if (!match) return undefined;
    const [major, minor] = [Number(match[1]), Number(match[2])];
    if (major === DM_MAJOR) {
      const device = [...this.devices.values()].find((candidate) => candidate.minor === minor);
      return device && this.asBlockDevice(device);
    }
    return [...this.blockDevices.values()].find((device) => device.major === major && device.minor === minor);
  }

  private blockDeviceInfo(path: string, device: SimulatedBlockDevice): BlockDeviceInfo {
    const majorMinor = `${device.major}:${device.minor}`;
    const info: BlockDeviceInfo = { path, majorMinor, sizeSectors: device.sizeSectors };
    // A device-mapper device's identity is its dm UUID (sysfs dm/uuid), as on a real kernel.
    const dm = device.major === DM_MAJOR ? this.deviceByMinor(device.minor) : undefined;
    const value = dm ? identityFrom('dm/uuid', dm.uuid) : this.identities.get(majorMinor);
    if (value !== undefined) {
      const source = `/sys/dev/block/${majorMinor}/${dm ? 'dm/uuid' : '(simulated)'}`;
      info.identity = { source, value, mainId: mainIdOf(value) };
    }
    return info;
  }

  private deviceByMinor(minor: number): SimDevice | undefined {
    return [...this.devices.values()].find((candidate) => candidate.minor === minor);
  }

  private asBlockDevice(device: SimDevice): SimulatedBlockDevice {
    const sizeSectors = (device.live ?? []).reduce((sum, line) => sum + line.lengthSectors, 0);
    return { major: DM_MAJOR, minor: device.minor, sizeSectors };
  }

  private freshRemapStatus(table: readonly TableLine[] | undefined): RemapStatus {
    const line = table?.length === 1 && table[0]?.targetType === TARGET_NAME ? table[0] : undefined;
    let spareBlocksTotal = 0;
    if (line) {
      const remap = parseRemapTable(line);
      const spare = this.resolve(remap.spareDevice);
      spareBlocksTotal = spare ? Math.floor(spare.sizeSectors / remap.blockSizeSectors) : 0;
    }
    return {
      health: 'ok',
      remappedBlocks: 0,
      pendingBlocks: 0,
      spareBlocksUsed: 0,
      spareBlocksTotal,
      readErrors: 0,
      writeErrors: 0,
      remapFailures: 0,
      metadataSequence: 0,
      extra: {},
    };
  }

  private newDevice(name: string, uuid: string): SimDevice {
    return {
      name,
      uuid,
      minor: this.nextDmMinor++,
      suspended: false,
      explicitOpens: 0,
      remapStatus: this.freshRemapStatus(undefined),
    };
  }

  private mustExist(operation: string, name: string): SimDevice {
    const device = this.devices.get(name);
    if (!device) throw noSuchDeviceError(operation, name);
    return device;
  }

  /** Every mutation checks ownership before anything else, as the real adapter does before running a process. */
  private mustBeOwned(operation: string, name: string): SimDevice {
    const device = this.mustExist(operation, name);
    if (!isOwnedUuid(device.uuid)) throw notOwnedError(operation, name, device.uuid);
    return device;
  }
}
