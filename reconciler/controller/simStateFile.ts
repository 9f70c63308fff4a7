/**
 * A SimulatedKernel kept in a JSON file between command runs, so the CLI's
 * end-to-end tests can run `plan`, `apply` and `run` as real processes
 * against one simulated kernel (`--kernel sim:FILE`). The file is rebuilt
 * into a kernel through the simulator's own calls and test hooks, and written
 * back from an observation when the command ends.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { SimulatedKernel } from '../kernel/simulated.js';
import type { FaultSpec, SimulatedOperation } from '../kernel/simulated.js';
import type { SavedRemapRun } from '../kernel/simulated-remaps.js';
import type { KernelObservation, RemapStatus } from '../kernel/adapter.js';
import { isOwnedUuid } from '../kernel/errors.js';
import { formatTableLine } from '../kernel/table.js';

export interface SimBlockDeviceState {
  path: string;
  sizeSectors: number;
  major: number;
  minor: number;
  /** The stable identity sysfs would show (see SimulatedKernel.addBlockDevice); none when absent. */
  identity?: string;
  /** The device's first 8 KiB in base64 (a spare's superblocks), when not all zero. */
  header?: string;
}

export interface SimDeviceState {
  name: string;
  uuid: string;
  /** Live table as `dmsetup table` prints it; absent for a device created without one. */
  table?: string;
  /** A table waiting in the inactive slot (kernels do not print it, so write-back keeps the one it was given). */
  inactiveTable?: string;
  suspended?: boolean;
  openCount?: number;
  remappedBlocks?: number;
  /** Which blocks are remapped to which slots (SimulatedKernel.savedRemaps); remappedBlocks alone remaps the lowest blocks. */
  remaps?: SavedRemapRun[];
  pendingBlocks?: number;
  /** Status fields set last, over what the counts above give (health, error counters...); written back with their values then. */
  remapStatus?: Partial<RemapStatus>;
}

/** A failure armed once the state is restored (see FaultSpec); spent faults are not written back. */
export type SimFaultState = FaultSpec & { operation: SimulatedOperation };

export interface SimState {
  moduleLoaded?: boolean;
  moduleInstalled?: boolean;
  blockDevices: SimBlockDeviceState[];
  devices: SimDeviceState[];
  faults?: SimFaultState[];
}

export async function readSimState(file: string): Promise<SimState> {
  return JSON.parse(await readFile(file, 'utf8')) as SimState;
}

/** Build a kernel in `state`; restoring runs before any fault is armed, so it cannot fail half-way. */
export async function simulatedKernelFrom(state: SimState): Promise<SimulatedKernel> {
  const kernel = new SimulatedKernel({
    moduleLoaded: state.moduleLoaded ?? true,
    moduleInstalled: state.moduleInstalled ?? true,
    batchWindowMs: 0,
  });
  for (const device of state.blockDevices) {
    const majorMinor = { major: device.major, minor: device.minor };
    kernel.addBlockDevice(device.path, device.sizeSectors, majorMinor, device.identity);
    if (device.header !== undefined)
      kernel.writeBlockDevice(device.path, 0, Buffer.from(device.header, 'base64'));
  }
  for (const device of state.devices) {
    if (!isOwnedUuid(device.uuid)) kernel.addForeignDevice(device.name, device.uuid, device.table);
    else if (device.table === undefined) {
      kernel.addHalfCreatedDevice(device.name, device.uuid, device.inactiveTable);
    } else {
      await kernel.create({ name: device.name, uuid: device.uuid, table: device.table });
      if (device.inactiveTable !== undefined) {
        await kernel.load({ name: device.name, uuid: device.uuid, table: device.inactiveTable });
      }
      if (device.suspended) await kernel.suspend(device.name);
    }
    for (let opens = 0; opens < (device.openCount ?? 0); opens += 1) kernel.open(device.name);
    if (device.remaps) kernel.restoreRemaps(device.name, device.remaps);
    else if (device.remappedBlocks) kernel.injectRemappedBlocks(device.name, device.remappedBlocks);
    if (device.pendingBlocks) kernel.setRemapStatus(device.name, { pendingBlocks: device.pendingBlocks });
    if (device.remapStatus) kernel.setRemapStatus(device.name, device.remapStatus);
  }
  for (const { operation, ...fault } of state.faults ?? []) kernel.failNext(operation, fault);
  return kernel;
}

/**
 * The state an observation shows, keeping the block devices (which the kernel
 * does not list) from `previous` with their first bytes as `headerOf` reads
 * them now (a spare the run formatted stays formatted).
 */
export function simStateOf(
  observation: KernelObservation,
  previous: SimState,
  headerOf: (path: string) => Uint8Array,
  remapsOf: (name: string) => SavedRemapRun[] | undefined = () => undefined,
): SimState {
  const inactiveBefore = new Map(previous.devices.map((device) => [device.name, device.inactiveTable]));
  const statusBefore = new Map(previous.devices.map((device) => [device.name, device.remapStatus]));
  return {
    ...previous,
    blockDevices: previous.blockDevices.map(({ header: _before, ...device }) => {
      const header = headerOf(device.path);
      return !isZero(header) ? { ...device, header: Buffer.from(header).toString('base64') } : device;
    }),
    // Faults were armed for this run only; what is left of them is not carried over.
    faults: undefined,
    moduleLoaded: observation.moduleLoaded,
    devices: observation.devices.map((device) => {
      const table = device.hasLiveTable ? device.table.map(formatTableLine).join('\n') : undefined;
      // Unknown inactive content: the live table stands in, which keeps "something is loaded" true.
      const inactiveTable = device.hasInactiveTable ? (inactiveBefore.get(device.name) ?? table) : undefined;
      const remaps = device.remap ? remapsOf(device.name) : undefined;
      return {
        name: device.name,
        uuid: device.uuid,
        ...(table !== undefined ? { table } : {}),
        ...(inactiveTable !== undefined ? { inactiveTable } : {}),
        suspended: device.suspended,
        openCount: device.openCount,
        remappedBlocks: device.remap?.status.remappedBlocks ?? 0,
        ...(remaps?.length ? { remaps } : {}),
        pendingBlocks: device.remap?.status.pendingBlocks ?? 0,
        ...(device.remap && statusBefore.get(device.name)
          ? { remapStatus: currentValues(statusBefore.get(device.name) ?? {}, device.remap.status) }
          : {}),
      };
    }),
  };
}

/** The fields a test set, with the values the kernel shows now (a clear_stats since is kept). */
function currentValues(set: Partial<RemapStatus>, now: RemapStatus): Partial<RemapStatus> {
  return Object.fromEntries(Object.keys(set).map((key) => [key, now[key as keyof RemapStatus]]));
}

/** Write atomically: a test reading the file never sees half of it. */
export async function writeSimState(file: string, state: SimState): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(state, null, 2) + '\n');
  await rename(temporary, file);
}

/** All bytes zero, compared in one memcmp (a per-byte callback over 8 KiB per disk dominated a pass). */
function isZero(bytes: Uint8Array): boolean {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.equals(Buffer.alloc(bytes.byteLength));
}
