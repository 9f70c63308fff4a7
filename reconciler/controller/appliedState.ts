/**
 * What the reconciler last applied to each device it owns, and what it last
 * saw of that device's spare. The kernel forgets a device when it is removed
 * or the host reboots, but the spare keeps every remapped block: without this
 * record, a spec that names a new spare for a device that is down would be
 * created on the blank spare, and every remapped block would read main's
 * stale copy. Pure types and decisions; `stateStore.ts` keeps them on disk.
 */
import type { BlockDeviceInfo, ObservedDevice, SpareMetadata } from '../kernel/adapter.js';
import type { DeviceSpec } from '../spec/index.js';

export const APPLIED_STATE_VERSION = 1;

/** The spare a device last ran on. */
export interface AppliedSpare {
  /** The path the spec named. */
  path: string;
  /** "major:minor" it had then (not stable across reboots: compared only as a hint). */
  majorMinor: string;
  /** The disk's stable identity, when it has one (kernel/disk-identity.ts). */
  identity?: string;
  /** The spare metadata's format id, when it was read. */
  formatId?: string;
}

export interface AppliedDeviceRecord {
  version: typeof APPLIED_STATE_VERSION;
  name: string;
  /** The spec the device was last converged to (with the file it came from). */
  spec: DeviceSpec;
  spare: AppliedSpare;
  blockSizeBytes: number;
  /** Counts of the last status read. */
  remappedBlocks: number;
  pendingBlocks: number;
  /** The last status could not be read: counts as holding data. */
  statusUnknown: boolean;
  /** When this content was first written (ISO 8601). */
  recordedAt: string;
}

/** One device's state file as read: absent, readable, or corrupt (reported, never acted on). */
export type AppliedRead =
  { state: 'ok'; record: AppliedDeviceRecord } | { state: 'corrupt'; file: string; reason: string };

/** The spare of a record held data the last time it was seen. */
export function recordHoldsData(record: AppliedDeviceRecord): boolean {
  return record.statusUnknown || record.remappedBlocks > 0 || record.pendingBlocks > 0;
}

/** How the spare a spec names now differs from the one its device last ran on, if it does. */
export function spareChange(
  record: AppliedDeviceRecord,
  spec: DeviceSpec,
  spare: BlockDeviceInfo,
  metadata: SpareMetadata | undefined,
): string | undefined {
  if (record.spare.path !== spec.spareDevice) {
    return `the spec names spare ${spec.spareDevice}; the device last ran on ${record.spare.path}`;
  }
  if (record.spare.identity !== undefined && spare.identity !== undefined) {
    if (record.spare.identity !== spare.identity.value) {
      return `${spec.spareDevice} is now disk ${spare.identity.value}; the device last ran on disk ${record.spare.identity}`;
    }
  }
  if (metadata?.state === 'blank') {
    return `${spec.spareDevice} is blank now (replaced or wiped since the device last ran on it)`;
  }
  const formatId = metadata?.state === 'formatted' ? metadata.superblock.formatId : undefined;
  if (record.spare.formatId !== undefined && formatId !== undefined && formatId !== record.spare.formatId) {
    return `${spec.spareDevice} holds another format of dm-remap metadata (format id ${formatId}, was ${record.spare.formatId})`;
  }
  return undefined;
}

/** What the data on the spare of a record is, in an operator's words. */
export function describeHeldData(record: AppliedDeviceRecord): string {
  if (record.statusUnknown) return 'data of unknown extent (its status could not be read)';
  return `${record.remappedBlocks} remapped and ${record.pendingBlocks} pending blocks`;
}

/**
 * The record to keep for a live device, or undefined to keep the current one.
 * `converged`: the live table is what `spec` asks for, so the spec becomes the
 * applied one. Otherwise only the counts are refreshed, and only when the
 * live table still runs on the recorded spare.
 */
export function nextRecord(input: {
  previous: AppliedDeviceRecord | undefined;
  spec: DeviceSpec | undefined;
  converged: boolean;
  device: ObservedDevice;
  spare: BlockDeviceInfo | undefined;
  /**
   * What the spare's superblock said when it was last read before a table was
   * loaded on it (a live device's spare is not read: the page cache may lag
   * the module's writes): its format id, null when it was blank, undefined
   * when it was not read.
   */
  formatIdBeforeLoad: string | null | undefined;
  now: Date;
}): AppliedDeviceRecord | undefined {
  const { previous, spec, device } = input;
  const live = device.remap;
  if (!device.owned || !device.hasLiveTable) return undefined;
  const counts = live
    ? {
        remappedBlocks: live.status.remappedBlocks,
        pendingBlocks: live.status.pendingBlocks,
        statusUnknown: false,
      }
    : { remappedBlocks: 0, pendingBlocks: 0, statusUnknown: true };

  let candidate: Omit<AppliedDeviceRecord, 'recordedAt'> | undefined;
  if (input.converged && spec && input.spare && live?.table.spareDevice === input.spare.majorMinor) {
    const sameSpare = previous?.spare.path === spec.spareDevice;
    const formatId =
      input.formatIdBeforeLoad === undefined
        ? sameSpare
          ? previous?.spare.formatId
          : undefined
        : (input.formatIdBeforeLoad ?? undefined);
    candidate = {
      version: APPLIED_STATE_VERSION,
      name: spec.name,
      spec,
      spare: {
        path: spec.spareDevice,
        majorMinor: input.spare.majorMinor,
        ...(input.spare.identity ? { identity: input.spare.identity.value } : {}),
        ...(formatId !== undefined ? { formatId } : {}),
      },
      blockSizeBytes: spec.blockSizeBytes,
      ...counts,
    };
  } else if (previous && (!live || live.table.spareDevice === previous.spare.majorMinor)) {
    candidate = { ...withoutTime(previous), ...counts };
  }
  if (!candidate) return undefined;
  if (previous && sameContent(withoutTime(previous), candidate)) return undefined;
  return { ...candidate, recordedAt: input.now.toISOString() };
}

/** The record after a status read just before removal: only the counts change. */
export function recordWithCounts(
  previous: AppliedDeviceRecord,
  counts: { remappedBlocks: number; pendingBlocks: number } | undefined,
  now: Date,
): AppliedDeviceRecord | undefined {
  const next = counts
    ? { ...withoutTime(previous), ...counts, statusUnknown: false }
    : { ...withoutTime(previous), statusUnknown: true };
  if (sameContent(withoutTime(previous), next)) return undefined;
  return { ...next, recordedAt: now.toISOString() };
}

function withoutTime(record: AppliedDeviceRecord): Omit<AppliedDeviceRecord, 'recordedAt'> {
  const rest: Partial<AppliedDeviceRecord> = { ...record };
  delete rest.recordedAt;
  return rest as Omit<AppliedDeviceRecord, 'recordedAt'>;
}

/** Equal as data, whatever the order of keys (a record read back from disk against one built now). */
function sameContent(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, field]) => field !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${canonical(field)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
