/**
 * The kernel adapter contract: the only way the reconciler observes or changes
 * device-mapper. Two implementations obey it — `DmsetupKernel` (real dmsetup,
 * execFile with argument arrays) and `SimulatedKernel` (in-process, for fast
 * tests) — and one contract suite runs against both so they cannot drift.
 *
 * Ownership rule: every mutating call refuses a device whose dm UUID does not
 * start with OWNED_UUID_PREFIX. Observation lists everything (foreign devices
 * included, so the reconciler can see name clashes) but marks ownership.
 */

/** Every device this project creates carries this dm UUID prefix; nothing else is ever touched. */
export const OWNED_UUID_PREFIX = 'DMREMAP-';

/** The device-mapper target name registered by kmod/dm-remap.ko. */
export const TARGET_NAME = 'remap';

/** The kernel module that provides TARGET_NAME. */
export const MODULE_NAME = 'dm-remap';

/**
 * Health reported by the target's INFO status (see kmod/README.md). A value not
 * listed (a newer module's) is kept as printed rather than refused: whatever
 * it is, it is not 'ok'.
 */
export type TargetHealth =
  | 'ok'
  | 'degraded'
  | 'spare_full'
  | 'failing'
  | 'metadata_error'
  // Any other string; `& {}` keeps a plain `string` from absorbing the names above.
  | (string & {});

/** Parsed `dmsetup status` line of one `remap` target (kmod/README.md, "Status"). */
export interface RemapStatus {
  health: TargetHealth;
  remappedBlocks: number;
  pendingBlocks: number;
  spareBlocksUsed: number;
  spareBlocksTotal: number;
  readErrors: number;
  writeErrors: number;
  remapFailures: number;
  metadataSequence: number;
  /** Keys the parser did not know, kept so a newer module never breaks an older reconciler. */
  extra: Record<string, string>;
}

/** Parsed table line of one `remap` target (kmod/README.md, "Table"). */
export interface RemapTable {
  startSector: number;
  lengthSectors: number;
  /** As the kernel reports it: "major:minor". */
  mainDevice: string;
  spareDevice: string;
  blockSizeSectors: number;
  readRetries: number;
  /** The `main_id` feature (an identity the module records on the spare), when the table sets one. */
  mainId?: string;
}

/** One target line as device-mapper reports it, before target-specific parsing. */
export interface TableLine {
  startSector: number;
  lengthSectors: number;
  targetType: string;
  args: string;
}

export interface ObservedDevice {
  name: string;
  /** dm UUID, '' when the device has none. */
  uuid: string;
  owned: boolean;
  major: number;
  minor: number;
  suspended: boolean;
  /** A table is loaded in the inactive slot (a half-done create or reload). */
  hasInactiveTable: boolean;
  /** Nothing loaded in the live slot (a create interrupted before its first resume). */
  hasLiveTable: boolean;
  openCount: number;
  /** Live table lines; empty when hasLiveTable is false. */
  table: TableLine[];
  /** Parsed remap table/status, present when the live table is a single `remap` target. */
  remap?: { table: RemapTable; status: RemapStatus };
  /**
   * Why the live table, or the status of a single `remap` target, could not be
   * parsed (`remap` is then absent, and `table` empty when the table was the
   * problem). Only this device is affected: the rest of the observation stands.
   */
  unreadable?: string;
}

/** One observation of the whole kernel, taken in a batched pass. */
export interface KernelObservation {
  moduleLoaded: boolean;
  devices: ObservedDevice[];
}

/** What the reconciler asks for when it creates or reloads a device. */
export interface DesiredTable {
  name: string;
  uuid: string;
  /** Full table line(s) as given to `dmsetup load`, e.g. "0 2048 remap /dev/vda /dev/vdb 2 block_size 8". */
  table: string;
}

/** A backing block device as the kernel sees it. */
export interface BlockDeviceInfo {
  /** The path asked about (before symlinks were followed). */
  path: string;
  /** "major:minor", the form device-mapper prints in tables. */
  majorMinor: string;
  sizeSectors: number;
  /** The disk's stable identity (kernel/disk-identity.ts); absent when it has none (a loop device). */
  identity?: DiskIdentity;
}

/** Who a disk is, whatever name it got at this boot. */
export interface DiskIdentity {
  /** Where it was read, e.g. "/sys/dev/block/8:0/device/wwid". */
  source: string;
  /** The identity, e.g. "naa.5000c500a1b2c3d4" or "virtio-main-part1". */
  value: string;
  /** What the table's `main_id` carries for it: 1 to 63 characters, no whitespace. */
  mainId: string;
}

/** The superblock fields of a formatted spare the reconciler uses (kmod/README.md, "On-disk format"). */
export interface SpareSuperblock {
  version: number;
  blockSectors: number;
  mainSectors: number;
  spareSectors: number;
  sequence: number;
  /** The random id the module drew when it formatted the spare (hex), telling one format from the next. */
  formatId?: string;
  /** The `main_id` the spare was formatted with; '' when that table gave none. */
  mainId: string;
}

/**
 * What a spare's metadata superblocks say, read from user space before a
 * device is created: blank (both copies all zero: the module formats it),
 * formatted, or unknown (unreadable, corrupt, not dm-remap, or a newer format:
 * the module decides, and refuses what it cannot trust).
 */
export type SpareMetadata =
  | { state: 'blank' }
  | {
      state: 'formatted';
      superblock: SpareSuperblock;
      /**
       * Remaps its table holds, as the module would load them (a lower bound
       * when the table is longer than the reconciler reads); undefined when
       * the table could not be read.
       */
      remapCount?: number;
    }
  | { state: 'unknown'; reason: string };

/** A failure of one kernel operation, attributed to one device where it can be. */
export class KernelError extends Error {
  override name = 'KernelError';
  constructor(
    message: string,
    readonly operation: string,
    readonly device?: string,
    /** e.g. 'EBUSY', 'ENXIO', 'EINVAL', 'ETIMEDOUT', 'ENOTOWNED' — stable codes tests can match. */
    readonly code: string = 'EIO',
  ) {
    super(message);
  }
}

export interface KernelAdapter {
  /** One batched pass over every dm device: names, UUIDs, tables, status. */
  observe(signal?: AbortSignal): Promise<KernelObservation>;
  /** Resolve a block device path (following symlinks); undefined when it does not exist. */
  inspectBlockDevice(path: string, signal?: AbortSignal): Promise<BlockDeviceInfo | undefined>;
  /** Read the dm-remap superblocks at the start of a spare (never writes; never opens it exclusively). */
  readSpareMetadata(path: string, signal?: AbortSignal): Promise<SpareMetadata>;
  /** Load the target module if it is not loaded (idempotent). */
  loadModule(signal?: AbortSignal): Promise<void>;
  /**
   * Create devices (inactive → load table → resume). Calls made within a short
   * window are coalesced into one `dmsetup create --concise`; each caller still
   * gets its own outcome (rejected with a KernelError naming its device).
   */
  create(device: DesiredTable, signal?: AbortSignal): Promise<void>;
  /** Load a table into the inactive slot of an owned device. */
  load(device: DesiredTable, signal?: AbortSignal): Promise<void>;
  suspend(name: string, signal?: AbortSignal): Promise<void>;
  resume(name: string, signal?: AbortSignal): Promise<void>;
  /** Drop an inactive table (rolling back a half-done reload). */
  clearInactive(name: string, signal?: AbortSignal): Promise<void>;
  /** Remove an owned device; EBUSY when it is open. Coalesced like create. */
  remove(name: string, signal?: AbortSignal): Promise<void>;
  /** Send a target message (`dmsetup message NAME 0 ...`), returning the reply. */
  message(name: string, args: string[], signal?: AbortSignal): Promise<string>;
  /**
   * Give a device that has no dm UUID the owned `uuid` (`dmsetup rename --setuuid`): how a device
   * made by hand is adopted. The one call that acts on a device not owned yet; it changes nothing
   * else (no table, no suspend). ENOTOWNED when the device has another UUID or `uuid` lacks the
   * owned prefix, EEXIST when it is owned already (device-mapper sets a UUID only once).
   */
  setUuid(name: string, uuid: string, signal?: AbortSignal): Promise<void>;
}
