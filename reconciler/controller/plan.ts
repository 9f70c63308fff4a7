/**
 * The pure half of reconciliation: from what is declared, what was last known
 * good, and what the kernel shows, decide per device which operations would
 * converge it, each with the reason an operator reads in `dm-remap plan`.
 *
 * Nothing here reads a file or calls the kernel (the effectful half is
 * `apply`), so every branch is unit-tested from built inputs. Data safety
 * rules live here and nowhere else: a spec change that would strand remapped
 * blocks is refused, an invalid spec file freezes its devices, a deleted spec
 * removes its device only by policy or `--prune`, and an open device is never
 * removed.
 */
import type {
  BlockDeviceInfo,
  DesiredTable,
  KernelObservation,
  ObservedDevice,
  SpareMetadata,
} from '../kernel/adapter.js';
import { MODULE_NAME } from '../kernel/adapter.js';
import type { DeviceSpec, FileResult } from '../spec/index.js';
import { decideMainId } from '../device/main-id.js';
import { buildDesiredDevice, diffLiveTable, spareHoldsData } from '../device/table.js';
import type { TableDifference } from '../device/table.js';
import { describeHeldData, recordHoldsData, spareChange } from './appliedState.js';
import type { AppliedDeviceRecord, AppliedRead } from './appliedState.js';

export interface PlanOptions {
  /** Remove owned devices whose spec was deleted even when their removalPolicy is Retain. */
  prune: boolean;
  /**
   * Devices whose remapped blocks on their previous spare the operator gives up
   * (`apply --accept-data-loss NAME`): a new spare or block size goes ahead.
   */
  acceptDataLoss?: ReadonlySet<string>;
}

export interface PlanInput {
  /** Valid specs as loaded now. */
  specs: readonly DeviceSpec[];
  /** Per-file load status: an invalid file freezes the devices it declared. */
  files: readonly FileResult[];
  /** The last valid spec seen per device name (see LastGoodSpecs). */
  lastGood: ReadonlyMap<string, DeviceSpec>;
  observation: KernelObservation;
  /** Backing devices of every spec, keyed by the path the spec names; undefined = does not exist. */
  blockDevices: ReadonlyMap<string, BlockDeviceInfo | undefined>;
  /** What the superblocks of spares say, keyed by the path the spec names; read for devices not yet live. */
  spareMetadata: ReadonlyMap<string, SpareMetadata>;
  /** What was last applied to each device and seen of its spare (appliedState.ts), by name. */
  applied: ReadonlyMap<string, AppliedRead>;
  options: PlanOptions;
}

export type RefusalCode =
  | 'foreignName'
  | 'mainDeviceChanged'
  | 'wouldStrandData'
  | 'spareFormatted'
  | 'spareOfAnotherMain'
  | 'stateUnreadable'
  | 'statusUnreadable'
  | 'unexpectedTable';

/** Operations that change the kernel. */
export type ActionOperation =
  | { kind: 'loadModule'; reason: string }
  | { kind: 'create'; table: DesiredTable; reason: string; warning?: string }
  | { kind: 'completeCreate'; table: DesiredTable; reason: string; warning?: string }
  | { kind: 'rollbackCreate'; reason: string }
  | { kind: 'reload'; table: DesiredTable; changes: TableDifference[]; reason: string; warning?: string }
  | { kind: 'resume'; reason: string }
  | { kind: 'clearInactive'; reason: string }
  | { kind: 'remove'; reason: string };

/** Decisions not to act, reported with their reason. */
export type NonActionOperation =
  | { kind: 'refuse'; code: RefusalCode; reason: string }
  | { kind: 'hold'; reason: string }
  | { kind: 'skip'; reason: string }
  | { kind: 'orphan'; reason: string }
  | { kind: 'blocked'; code: 'EBUSY'; reason: string }
  | { kind: 'wait'; reason: string };

export type Operation = ActionOperation | NonActionOperation;
export type OperationKind = Operation['kind'];

const ACTION_KINDS: ReadonlySet<OperationKind> = new Set([
  'loadModule',
  'create',
  'completeCreate',
  'rollbackCreate',
  'reload',
  'resume',
  'clearInactive',
  'remove',
]);

/** Non-actions that mean the device did not reach what was declared (apply fails on them). */
const UNCONVERGED_KINDS: ReadonlySet<OperationKind> = new Set(['refuse', 'blocked', 'wait']);

export function isAction(operation: Operation): operation is ActionOperation {
  return ACTION_KINDS.has(operation.kind);
}

export function isUnconverged(operation: Operation): boolean {
  return UNCONVERGED_KINDS.has(operation.kind);
}

export interface DevicePlan {
  name: string;
  /** In execution order; the device machine runs the first action, then re-observes and re-plans. */
  operations: Operation[];
  /** An owned device of this name exists in the kernel. */
  present: boolean;
  /** A spec (valid or held) declares this name. */
  declared: boolean;
}

export interface Plan {
  devices: DevicePlan[];
  /** At least one device has an action pending. */
  hasChanges: boolean;
}

/** Plan every device that is declared, held, or owned in the kernel, in name order. */
export function plan(input: PlanInput): Plan {
  const devices = plannedDeviceNames(input).map((name) => planDevice(name, input));
  return { devices, hasChanges: devices.some((device) => device.operations.some(isAction)) };
}

/** Every name the reconciler is responsible for: declared, named by an invalid file, or owned in the kernel. */
export function plannedDeviceNames(input: Pick<PlanInput, 'specs' | 'files' | 'observation'>): string[] {
  const names = new Set(input.specs.map((spec) => spec.name));
  for (const device of input.observation.devices) if (device.owned) names.add(device.name);
  for (const file of input.files) {
    if (file.status === 'invalid') for (const name of file.devices) names.add(name);
  }
  return [...names].sort();
}

const devicesByName = new WeakMap<KernelObservation, ReadonlyMap<string, ObservedDevice>>();
const specsByName = new WeakMap<readonly DeviceSpec[], ReadonlyMap<string, DeviceSpec>>();

/**
 * The observed device named `name`. An observation is shared by every device
 * planned from it and never changed once taken, so its index by name is made
 * once per observation, not scanned once per device.
 */
export function observedDevice(observation: KernelObservation, name: string): ObservedDevice | undefined {
  let index = devicesByName.get(observation);
  if (!index) {
    index = new Map(observation.devices.map((device) => [device.name, device] as const));
    devicesByName.set(observation, index);
  }
  return index.get(name);
}

/** The spec named `name`, indexed once per loaded list of specs (never changed once loaded). */
export function specNamed(specs: readonly DeviceSpec[], name: string): DeviceSpec | undefined {
  let index = specsByName.get(specs);
  if (!index) {
    index = new Map(specs.map((spec) => [spec.name, spec] as const));
    specsByName.set(specs, index);
  }
  return index.get(name);
}

/** Plan one device: the controller calls this with a fresh input every time it reconciles `name`. */
export function planDevice(name: string, input: PlanInput): DevicePlan {
  const spec = specNamed(input.specs, name);
  const observed = observedDevice(input.observation, name);
  const owned = observed?.owned === true ? observed : undefined;
  const heldBy = invalidFileHolding(name, input, owned !== undefined && spec === undefined);
  const result = (operations: Operation[]): DevicePlan => ({
    name,
    operations,
    present: owned !== undefined,
    declared: spec !== undefined || heldBy !== undefined,
  });

  // `paused` is the operator's hands-off: even a suspended device is theirs to resume.
  if (spec?.paused) return result([{ kind: 'skip', reason: 'reconciliation is paused by the spec' }]);
  // What a crash left (a suspended device, a stale inactive table) is repaired before anything
  // else and whatever the spec says: resuming or clearing needs no spec, and a typo in one must
  // not leave a device's I/O frozen.
  // A spec that was paused when last valid stays hands-off while its file is broken or gone.
  const wasPaused = input.lastGood.get(name)?.paused === true;
  const leftovers = owned?.hasLiveTable && !wasPaused ? recoverInterruptedReload(owned) : [];
  if (heldBy !== undefined) {
    const reason = `spec file ${heldBy} is invalid; keeping the device as it is`;
    return result([...leftovers, { kind: 'hold', reason }]);
  }

  const removal = removalDesire(name, spec, input);
  if (removal.kind === 'remove') return result(owned ? planRemoval(owned, removal.reason) : []);
  if (removal.kind === 'orphan') {
    return result(owned ? [...leftovers, { kind: 'orphan', reason: removal.reason }] : []);
  }
  if (spec === undefined) return result([]);

  if (observed && !observed.owned) {
    return result([
      {
        kind: 'refuse',
        code: 'foreignName',
        reason: `a device-mapper device named ${name} exists and is not managed by dm-remap (uuid "${observed.uuid}")`,
      },
    ]);
  }
  if (owned?.unreadable !== undefined) {
    return result([
      ...leftovers,
      {
        kind: 'refuse',
        code: 'statusUnreadable',
        reason: `its table or status cannot be read (${owned.unreadable}); not acting on a guess about it`,
      },
    ]);
  }
  return result(planActiveDevice(spec, owned, input));
}

/**
 * The invalid file that freezes `name`, if any: one that declared it, one its
 * last good spec came from, or — for a device in the kernel that no valid spec
 * declares — any invalid file: the names read from a broken file are a guess
 * (one cut before its second document's `name:` shows only the first), so
 * removal and pruning act only on a config dir that is valid throughout.
 */
function invalidFileHolding(name: string, input: PlanInput, presentUndeclared: boolean): string | undefined {
  const invalid = input.files.filter((file) => file.status === 'invalid');
  const lastGoodFile = input.lastGood.get(name)?.source.file;
  const declaring = invalid.find((file) => file.devices.includes(name) || file.file === lastGoodFile);
  if (declaring) return declaring.file;
  if (presentUndeclared) return invalid[0]?.file;
  return undefined;
}

type RemovalDesire =
  { kind: 'keep' } | { kind: 'remove'; reason: string } | { kind: 'orphan'; reason: string };

function removalDesire(name: string, spec: DeviceSpec | undefined, input: PlanInput): RemovalDesire {
  if (spec)
    return spec.state === 'absent'
      ? { kind: 'remove', reason: 'the spec sets state: absent' }
      : { kind: 'keep' };
  const policy = input.lastGood.get(name)?.removalPolicy ?? 'Retain';
  if (policy === 'Delete')
    return { kind: 'remove', reason: 'its spec was deleted and its removalPolicy is Delete' };
  if (input.options.prune) return { kind: 'remove', reason: 'its spec was deleted and --prune is set' };
  return {
    kind: 'orphan',
    reason: `no spec declares it and its removalPolicy is ${policy}; left untouched (use --prune to remove)`,
  };
}

/**
 * Removal: `remove` suspends the device first (presuspend: in-flight I/O
 * drains and its status is read), so a suspended device is removed as it is;
 * but one that cannot be removed (open) must not stay frozen.
 */
function planRemoval(device: ObservedDevice, reason: string): Operation[] {
  if (device.openCount > 0) {
    const leftovers = device.hasLiveTable ? recoverInterruptedReload(device) : [];
    return [
      ...leftovers,
      {
        kind: 'blocked',
        code: 'EBUSY',
        reason: `${reason}, but it is open (open count ${device.openCount}); close it to let it be removed`,
      },
    ];
  }
  if (!device.hasLiveTable)
    return [{ kind: 'rollbackCreate', reason: `${reason}; it was never fully created` }];
  const stale: Operation[] = device.hasInactiveTable
    ? [{ kind: 'clearInactive', reason: 'an inactive table was left by an interrupted reload' }]
    : [];
  return [...stale, { kind: 'remove', reason }];
}

function planActiveDevice(
  spec: DeviceSpec,
  owned: ObservedDevice | undefined,
  input: PlanInput,
): Operation[] {
  const operations: Operation[] = [];
  if (owned?.hasLiveTable) operations.push(...recoverInterruptedReload(owned));

  const main = input.blockDevices.get(spec.mainDevice);
  const spare = input.blockDevices.get(spec.spareDevice);
  if (!main || !spare) {
    const missing = [!main && `main device ${spec.mainDevice}`, !spare && `spare device ${spec.spareDevice}`];
    const reason = `waiting for ${missing.filter(Boolean).join(' and ')} to appear`;
    return [...operations, { kind: 'wait', reason }];
  }
  const moduleNeeded: Operation[] = input.observation.moduleLoaded
    ? []
    : [{ kind: 'loadModule', reason: `the ${MODULE_NAME} module is not loaded` }];

  if (!owned?.hasLiveTable) {
    const stranded = refuseFromAppliedState(spec, spare, input);
    if (stranded) return [stranded];
    const decision = decideMainIdFor(spec, main, spare, input);
    if (decision.kind === 'refuse') return [decision.refusal];
    const { table } = buildDesiredDevice(spec, main, spare, decision.mainId);
    if (!owned) {
      const reason = 'declared but not present in the kernel';
      return [...moduleNeeded, { kind: 'create', table, reason, ...decision.warning }];
    }
    const left = owned.hasInactiveTable ? 'an inactive table only' : 'no table';
    const reason = `half-created device (${left}), left by an interrupted create`;
    return [...moduleNeeded, { kind: 'completeCreate', table, reason, ...decision.warning }];
  }

  // On its own spare a live table keeps the main_id it has: the spare was formatted with it.
  const live = buildDesiredDevice(spec, main, spare, owned.remap?.table.mainId);
  const changes = diffLiveTable(owned, live.geometry);
  if (changes.length === 0) return operations;
  const acceptsLoss = input.options.acceptDataLoss?.has(spec.name) === true;
  const refusal = refuseChange(owned, changes, live.geometry.mainDevice, acceptsLoss);
  if (refusal) return [...operations, refusal];
  const reason = `live table differs from the spec (${changes.join(', ')})`;
  if (!changes.includes('spareDevice')) {
    return [...operations, { kind: 'reload', table: live.table, changes, reason }];
  }
  // A new spare is judged like the spare of a new device.
  const decision = decideMainIdFor(spec, main, spare, input);
  if (decision.kind === 'refuse') return [...operations, decision.refusal];
  const { table } = buildDesiredDevice(spec, main, spare, decision.mainId);
  return [...operations, { kind: 'reload', table, changes, reason, ...decision.warning }];
}

type PlannedMainId =
  | { kind: 'pass'; mainId: string | undefined; warning: { warning?: string } }
  | { kind: 'refuse'; refusal: NonActionOperation };

/** The main_id for a table on a spare no live table of this device uses (device/main-id.ts). */
function decideMainIdFor(
  spec: DeviceSpec,
  main: BlockDeviceInfo,
  spare: BlockDeviceInfo,
  input: PlanInput,
): PlannedMainId {
  const decision = decideMainId({
    mainPath: spec.mainDevice,
    sparePath: spec.spareDevice,
    main,
    spare,
    metadata: input.spareMetadata.get(spec.spareDevice),
  });
  if (decision.kind === 'refuse') {
    return {
      kind: 'refuse',
      refusal: { kind: 'refuse', code: 'spareOfAnotherMain', reason: decision.reason },
    };
  }
  const warning = decision.warning === undefined ? {} : { warning: decision.warning };
  return { kind: 'pass', mainId: decision.mainId, warning };
}

/** A reload interrupted by a crash leaves an inactive table, a suspended device, or both. */
function recoverInterruptedReload(device: ObservedDevice): Operation[] {
  const operations: Operation[] = [];
  // The inactive table is dropped rather than resumed into: it may predate the current spec.
  if (device.hasInactiveTable) {
    operations.push({ kind: 'clearInactive', reason: 'an inactive table was left by an interrupted reload' });
  }
  if (device.suspended) operations.push({ kind: 'resume', reason: 'the device was left suspended' });
  return operations;
}

function refuseChange(
  device: ObservedDevice,
  changes: TableDifference[],
  desiredMain: string,
  acceptsLoss: boolean,
): NonActionOperation | undefined {
  if (changes.includes('notRemap')) {
    return { kind: 'refuse', code: 'unexpectedTable', reason: 'the live table is not a single remap target' };
  }
  if (changes.includes('mainDevice')) {
    const liveMain = device.remap?.table.mainDevice ?? 'unknown';
    return {
      kind: 'refuse',
      code: 'mainDeviceChanged',
      reason: `the spec changes the main device (${liveMain} → ${desiredMain}); remove and recreate the device to do that`,
    };
  }
  const strands = changes.filter((change) => change === 'spareDevice' || change === 'blockSize');
  if (strands.length > 0 && spareHoldsData(device) && !acceptsLoss) {
    const status = device.remap?.status;
    const held = status
      ? `${status.remappedBlocks} remapped and ${status.pendingBlocks} pending blocks`
      : 'data of unknown extent (status unreadable)';
    return {
      kind: 'refuse',
      code: 'wouldStrandData',
      reason:
        `changing ${strands.join(' and ')} would strand ${held} on the current spare ` +
        `(${ACCEPT_LOSS_HINT(device.name)})`,
    };
  }
  // The spare records the main length and block size it was formatted for, and the target refuses
  // any other table on it: on the same spare such a reload can only fail, so it is refused here with
  // its reason rather than retried forever. (A new, blank spare is formatted for the new geometry.)
  const reformats = changes.filter((change) => change === 'length' || change === 'blockSize');
  if (reformats.length > 0 && !changes.includes('spareDevice')) {
    return {
      kind: 'refuse',
      code: 'spareFormatted',
      reason:
        `changing ${reformats.join(' and ')} needs the spare formatted anew: it records the main ` +
        'length and block size it serves (a migration: remove the device, then clear the metadata ' +
        'at the start of the spare, or declare a new blank spare)',
    };
  }
  return undefined;
}

const ACCEPT_LOSS_HINT = (name: string) =>
  `keep the spec's old spare and block size; or give those blocks up with ` +
  `\`dm-remap apply --accept-data-loss ${name}\`, after copying off what they hold`;

/**
 * Before a table is loaded on a spare no live table of this device uses: the
 * spare the device last ran on (its applied-state record) held remapped
 * blocks, and the spec now names another spare, another block size, or the
 * same path holding another disk or a wiped one. The kernel no longer shows
 * the old device (a removal, a reboot), so the record is the only witness.
 */
function refuseFromAppliedState(
  spec: DeviceSpec,
  spare: BlockDeviceInfo,
  input: PlanInput,
): NonActionOperation | undefined {
  const applied = input.applied.get(spec.name);
  if (applied === undefined || input.options.acceptDataLoss?.has(spec.name)) return undefined;
  if (applied.state === 'corrupt') {
    return {
      kind: 'refuse',
      code: 'stateUnreadable',
      reason:
        `its applied-state record ${applied.file} is unreadable (${applied.reason}), so whether its ` +
        `spare holds remapped blocks is unknown; fix or remove that file, or ` +
        `\`dm-remap apply --accept-data-loss ${spec.name}\``,
    };
  }
  const { record } = applied;
  const onDisk = remapsOnDisk(record, input.spareMetadata.get(record.spare.path));
  if (!recordHoldsData(record) && onDisk === 0) return undefined;
  const blockSizeChanged = record.blockSizeBytes !== spec.blockSizeBytes;
  const changed = blockSizeChanged
    ? `the spec changes blockSize (${record.blockSizeBytes} → ${spec.blockSizeBytes} bytes)`
    : spareChange(record, spec, spare, input.spareMetadata.get(spec.spareDevice));
  if (changed === undefined) return undefined;
  return {
    kind: 'refuse',
    code: 'wouldStrandData',
    reason:
      `${changed}, but ${heldText(record, onDisk)}; creating it now would ` +
      `read main's stale copy of them (${ACCEPT_LOSS_HINT(spec.name)})`,
  };
}

/**
 * The remaps the spare a device last ran on holds now, read from its table
 * (0 when unknown): remaps made after the last pass that saw the device —
 * before a crash, a `dmsetup remove` by hand, or when only `apply` ever ran —
 * are on the spare but not in the record. Counted only on the same format of
 * that spare the record saw, when the record knows it.
 */
function remapsOnDisk(record: AppliedDeviceRecord, metadata: SpareMetadata | undefined): number {
  if (metadata?.state !== 'formatted') return 0;
  const formatId = metadata.superblock.formatId;
  if (record.spare.formatId !== undefined && formatId !== record.spare.formatId) return 0;
  return metadata.remapCount ?? 0;
}

function heldText(record: AppliedDeviceRecord, onDisk: number): string {
  if (onDisk > record.remappedBlocks) {
    return `its previous spare ${record.spare.path} holds ${onDisk} remapped blocks (read from its metadata now)`;
  }
  return (
    `when the device last ran its spare ${record.spare.path} held ${describeHeldData(record)} ` +
    `(recorded ${record.recordedAt})`
  );
}
