/**
 * What an initramfs needs to create the dm-remap devices that a root (or
 * /usr) filesystem sits on, exactly as they run now: each device's name,
 * UUID and live table, with the main and spare device numbers (which the
 * kernel hands out anew at every boot) replaced by the stable paths that the
 * applied record or the spec names for them, each checked to resolve to the
 * disk the live table uses. Anything that could make the initramfs create
 * another device than the running one is refused, with the reason.
 */
import type { AppliedRead } from '../controller/appliedState.js';
import type { KernelAdapter, KernelObservation, ObservedDevice } from '../kernel/adapter.js';
import { TARGET_NAME } from '../kernel/adapter.js';
import { formatTableLine } from '../kernel/table.js';
import type { DeviceSpec } from '../spec/index.js';
import { deviceNameProblem, isUnstableDevicePath } from '../spec/device-names.js';
import { dmDevicesBelow, isBlockDeviceNumber } from './blockStack.js';
import type { StackedDmDevice } from './blockStack.js';
import { mountAt } from './mounts.js';
import type { MountEntry } from './mounts.js';

/** One device as the initramfs creates it. */
export interface BootTable {
  name: string;
  uuid: string;
  /** The live table with the stable paths in place of the device numbers: what `dmsetup create` is given. */
  table: string;
  /** The live table as `dmsetup table` prints it. */
  liveTable: string;
  mainDevice: string;
  spareDevice: string;
  /** The mount points whose filesystems sit on it. */
  mounts: string[];
}

/** What was found at one mount point asked about. */
export type MountFinding =
  | { mountPoint: string; state: 'notAMount' }
  | { mountPoint: string; state: 'notABlockDevice'; fsType: string; source: string }
  | { mountPoint: string; state: 'found'; majorMinor: string; fsType: string; source: string };

export interface BootTablesResult {
  tables: BootTable[];
  mounts: MountFinding[];
  /** Why a device cannot be listed, one sentence each; any makes the whole answer unusable. */
  refusals: string[];
}

export interface BootTablesContext {
  kernel: KernelAdapter;
  /** Observes device-mapper; called only when a mount sits on a dm device. */
  observe: () => Promise<KernelObservation>;
  mountinfo: readonly MountEntry[];
  sysfsRoot: string;
  /** The valid specs of the config dir. */
  declared: readonly DeviceSpec[];
  /** The applied-state records, by device name. */
  records: ReadonlyMap<string, AppliedRead>;
  /** Where the specs and records were read, for messages. */
  configDir: string;
  stateDir: string;
}

/**
 * A word of a boot-table line: the local-top script splits a line at spaces
 * and passes the words on through `sh`, so only characters that neither sh,
 * dmsetup (which reads a backslash as an escape) nor a table split can
 * misread are let through.
 */
const SAFE_WORD = /^[A-Za-z0-9+_.:/=@,-]+$/;

export async function planBootTables(mountPoints: readonly string[], context: BootTablesContext) {
  const mounts: MountFinding[] = [];
  const stacked: { device: StackedDmDevice; mounts: string[] }[] = [];
  for (const mountPoint of mountPoints) {
    const finding = await findMount(mountPoint, context);
    mounts.push(finding);
    if (finding.state !== 'found') continue;
    for (const device of await dmDevicesBelow(finding.majorMinor, context.sysfsRoot)) {
      const known = stacked.find((entry) => entry.device.majorMinor === device.majorMinor);
      if (known) known.mounts.push(finding.mountPoint);
      else stacked.push({ device, mounts: [finding.mountPoint] });
    }
  }
  const result: BootTablesResult = { tables: [], mounts, refusals: [] };
  if (stacked.length === 0) return result;

  const observation = await context.observe();
  for (const { device, mounts: above } of stacked) {
    const observed = observation.devices.find((candidate) => majorMinorOf(candidate) === device.majorMinor);
    const outcome = observed
      ? await bootTableOf(observed, above, context)
      : `${device.name} (${device.majorMinor}) is in sysfs but dmsetup does not list it`;
    if (typeof outcome === 'string') result.refusals.push(outcome);
    else if (outcome) result.tables.push(outcome);
  }
  return result;
}

async function findMount(mountPoint: string, context: BootTablesContext): Promise<MountFinding> {
  const entry = mountAt(context.mountinfo, mountPoint);
  if (!entry) return { mountPoint, state: 'notAMount' };
  const { fsType, source } = entry;
  if (await isBlockDeviceNumber(entry.majorMinor, context.sysfsRoot)) {
    return { mountPoint: entry.mountPoint, state: 'found', majorMinor: entry.majorMinor, fsType, source };
  }
  // btrfs reports an anonymous device number: its source names the (first) device.
  const device = source.startsWith('/')
    ? await context.kernel.inspectBlockDevice(source).catch(() => undefined)
    : undefined;
  return device
    ? { mountPoint: entry.mountPoint, state: 'found', majorMinor: device.majorMinor, fsType, source }
    : { mountPoint: entry.mountPoint, state: 'notABlockDevice', fsType, source };
}

/** The boot table of one dm device, undefined for another tool's (its own initramfs hook creates it), or why not. */
async function bootTableOf(
  device: ObservedDevice,
  mounts: string[],
  context: BootTablesContext,
): Promise<BootTable | string | undefined> {
  const { name } = device;
  const isRemap = device.table.some((line) => line.targetType === TARGET_NAME);
  if (!device.owned) {
    return isRemap
      ? `${name} is a ${TARGET_NAME} device dm-remap does not own (UUID "${device.uuid}"): nothing would ` +
          `create it at boot; take it over with \`dm-remap adopt ${name}\` first`
      : undefined;
  }
  if (!device.remap || device.table.length !== 1) {
    return `${name}: its live table is not one ${TARGET_NAME} target (${device.unreadable ?? device.table.map((line) => line.targetType).join(', ')})`;
  }
  const nameProblem = deviceNameProblem(name);
  if (nameProblem !== undefined) return `${name}: the name ${nameProblem}`;

  const live = device.remap.table;
  const record = context.records.get(name);
  const candidates = [
    ...(record?.state === 'ok'
      ? [{ from: `its record in ${context.stateDir}`, spec: record.record.spec }]
      : []),
    ...context.declared
      .filter((spec) => spec.name === name)
      .map((spec) => ({ from: spec.source.file, spec })),
  ];
  if (candidates.length === 0) {
    return `${name}: neither a spec in ${context.configDir} nor a record in ${context.stateDir} names its disks`;
  }
  const main = await stablePath(
    name,
    'main',
    live.mainDevice,
    candidates.map((c) => [c.from, c.spec.mainDevice]),
    context,
  );
  const spare = await stablePath(
    name,
    'spare',
    live.spareDevice,
    candidates.map((c) => [c.from, c.spec.spareDevice]),
    context,
  );
  if (main.problem !== undefined) return main.problem;
  if (spare.problem !== undefined) return spare.problem;

  const liveTable = formatTableLine(device.table[0]!);
  // Only the two device words change; every feature (main_id too) is passed on as the kernel printed it.
  const words = liveTable.split(' ');
  words[3] = main.path;
  words[4] = spare.path;
  const unsafe = [device.uuid, ...words].find((word) => !SAFE_WORD.test(word));
  if (unsafe !== undefined) {
    return `${name}: "${unsafe}" has characters the boot script cannot pass on safely (only ${SAFE_WORD.source})`;
  }
  return {
    name,
    uuid: device.uuid,
    table: words.join(' '),
    liveTable,
    mainDevice: main.path,
    spareDevice: spare.path,
    mounts,
  };
}

/**
 * The first of the named paths for a disk that an initramfs can wait for and
 * that is the disk the live table uses now; or, when none is, why each is not.
 */
async function stablePath(
  name: string,
  role: 'main' | 'spare',
  liveMajorMinor: string,
  named: [from: string, path: string][],
  context: BootTablesContext,
): Promise<{ path: string; problem?: undefined } | { problem: string }> {
  const problems: string[] = [];
  for (const [from, devicePath] of named) {
    const problem = await pathProblem(devicePath, liveMajorMinor, context.kernel);
    if (problem === undefined) return { path: devicePath };
    problems.push(`${devicePath} (from ${from}) ${problem}`);
  }
  return {
    problem: `${name}: no stable path to its ${role} device ${liveMajorMinor}: ${[...new Set(problems)].join('; ')}`,
  };
}

async function pathProblem(
  devicePath: string,
  liveMajorMinor: string,
  kernel: KernelAdapter,
): Promise<string | undefined> {
  if (isUnstableDevicePath(devicePath)) {
    return 'is a kernel name that can name another disk after a reboot (use /dev/disk/by-id/...)';
  }
  if (!devicePath.startsWith('/dev/')) return 'is not under /dev, where the initramfs finds disks';
  if (!SAFE_WORD.test(devicePath)) return 'has characters the boot script cannot pass on safely';
  const device = await kernel.inspectBlockDevice(devicePath).catch((error: unknown) => {
    return (error as Error).message;
  });
  if (typeof device === 'string') return `cannot be resolved: ${device}`;
  if (device === undefined) return 'does not exist';
  if (device.majorMinor !== liveMajorMinor) {
    return `resolves to ${device.majorMinor}, not to the ${liveMajorMinor} the live table uses`;
  }
  return undefined;
}

function majorMinorOf(device: ObservedDevice): string {
  return `${device.major}:${device.minor}`;
}
