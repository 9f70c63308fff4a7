/**
 * What a declared device's kernel table should be, and whether the live one
 * already is that. The comparison is semantic (device numbers, geometry and
 * feature values with kernel defaults filled in), never a string compare: the
 * kernel prints "253:1" where the spec says "/dev/disk/by-id/...".
 */
import { OWNED_UUID_PREFIX } from '../kernel/adapter.js';
import type { BlockDeviceInfo, DesiredTable, ObservedDevice, RemapTable } from '../kernel/adapter.js';
import { DEFAULT_BLOCK_SIZE_SECTORS, DEFAULT_READ_RETRIES, formatRemapTable } from '../kernel/table.js';
import type { DeviceSpec } from '../spec/index.js';

const SECTOR_BYTES = 512;

/** The table a spec asks for, in the units the kernel reports, kept next to the text given to `dmsetup`. */
export interface DesiredGeometry {
  lengthSectors: number;
  mainDevice: string;
  spareDevice: string;
  blockSizeSectors: number;
  readRetries: number;
  /** The `main_id` the table carries (main-id.ts decides it); not compared with the live table. */
  mainId?: string;
}

export interface DesiredDevice {
  table: DesiredTable;
  geometry: DesiredGeometry;
}

export function ownedUuid(name: string): string {
  return `${OWNED_UUID_PREFIX}${name}`;
}

/** Build the table for `spec` from the backing devices as the kernel sees them, with `mainId` if given. */
export function buildDesiredDevice(
  spec: DeviceSpec,
  main: BlockDeviceInfo,
  spare: BlockDeviceInfo,
  mainId?: string,
): DesiredDevice {
  const blockSizeSectors = spec.blockSizeBytes / SECTOR_BYTES;
  // The target maps whole blocks only (its constructor rejects a length that is
  // not a multiple of block_size), so a partial last block of the disk is left out.
  const lengthSectors = main.sizeSectors - (main.sizeSectors % blockSizeSectors);
  const table = formatRemapTable({
    startSector: 0,
    lengthSectors,
    mainDevice: spec.mainDevice,
    spareDevice: spec.spareDevice,
    blockSizeSectors,
    readRetries: spec.readRetries,
    ...(mainId === undefined ? {} : { mainId }),
  });
  return {
    table: { name: spec.name, uuid: ownedUuid(spec.name), table },
    geometry: {
      lengthSectors,
      mainDevice: main.majorMinor,
      spareDevice: spare.majorMinor,
      blockSizeSectors,
      readRetries: spec.readRetries,
      ...(mainId === undefined ? {} : { mainId }),
    },
  };
}

/** The ways a live table can differ from the desired one; empty means it matches. */
export type TableDifference =
  'notRemap' | 'length' | 'mainDevice' | 'spareDevice' | 'blockSize' | 'readRetries';

/** Compare the live table of `observed` with `desired`; kernel defaults fill features the table omits. */
export function diffLiveTable(observed: ObservedDevice, desired: DesiredGeometry): TableDifference[] {
  const live = observed.remap?.table;
  if (!live || observed.table.length !== 1) return ['notRemap'];
  return diffRemapTable(live, desired);
}

function diffRemapTable(live: RemapTable, desired: DesiredGeometry): TableDifference[] {
  const differences: TableDifference[] = [];
  if (live.startSector !== 0 || live.lengthSectors !== desired.lengthSectors) differences.push('length');
  if (live.mainDevice !== desired.mainDevice) differences.push('mainDevice');
  if (live.spareDevice !== desired.spareDevice) differences.push('spareDevice');
  if ((live.blockSizeSectors || DEFAULT_BLOCK_SIZE_SECTORS) !== desired.blockSizeSectors) {
    differences.push('blockSize');
  }
  if ((live.readRetries ?? DEFAULT_READ_RETRIES) !== desired.readRetries) differences.push('readRetries');
  // main_id is not compared: the spare's superblock fixes it, so a live table keeps its own (a device
  // created before main_id was passed has none, and the module would refuse a reload that adds one).
  return differences;
}

/**
 * The spare holds remapped or in-flight data: replacing it (or its block size)
 * would strand that data. A status we could not parse counts as holding data,
 * because guessing "empty" is the only wrong answer that loses data.
 */
export function spareHoldsData(observed: ObservedDevice): boolean {
  const status = observed.remap?.status;
  if (status === undefined) return true;
  return status.remappedBlocks > 0 || status.pendingBlocks > 0;
}
