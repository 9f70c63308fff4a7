/**
 * The dm-remap superblocks at the start of a spare, read from user space so
 * the reconciler knows what the module will find before it creates a device
 * (which main_id to pass, or why to refuse). Layout (kmod/README.md, "On-disk
 * format"; struct remap_disk_sb in kmod/dm-remap-metadata.c), little-endian,
 * one 512-byte sector per copy, copy A at sector 0 and copy B at sector 8:
 *
 *   0 magic u32 "RMPS"   4 crc u32   8 version u32   12 block_sectors u32
 *   16 main_sectors u64  24 spare_sectors u64  32 format_id u64
 *   40 table_sectors  48 table_a  56 table_b  64 data_start  72 nr_slots
 *   80 seq (u64 each)  88 main_id char[64], NUL-terminated
 *
 * The verdict mirrors the module's load_sb(): both copies all zero is a blank
 * spare; a copy counts when its magic and CRC hold; of two the newer (by seq)
 * wins. What the module would refuse is reported as unknown with the reason,
 * and the module stays the judge: this read is advisory (a page-cache copy
 * may lag the module's writes while another device holds the spare open, and
 * the module checks main_id itself on every table load).
 */
import { open } from 'node:fs/promises';

import type { SpareMetadata, SpareSuperblock } from './adapter.js';
import { abortedError } from './errors.js';

export const SECTOR_BYTES = 512;
export const SUPERBLOCK_MAGIC = 0x53504d52;
export const SUPERBLOCK_VERSION = 1;
export const CRC_SEED = 0xd3e7a9c1;
/** Byte offsets of copies A and B (sectors 0 and 8). */
export const SUPERBLOCK_OFFSETS = [0, 8 * SECTOR_BYTES] as const;
/** Both copies in one read, 4 KiB-aligned in offset and length, so a 4 KiB-sector spare reads too. */
export const HEADER_BYTES = 16 * SECTOR_BYTES;
export const MAIN_ID_OFFSET = 88;
export const MAIN_ID_BYTES = 64;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte += 1) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
    table[byte] = crc >>> 0;
  }
  return table;
})();

/** The kernel's crc32_le(): reflected polynomial 0xEDB88320, no inversion before or after. */
export function crc32Le(seed: number, bytes: Uint8Array): number {
  let crc = seed >>> 0;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return crc >>> 0;
}

/** A metadata sector's checksum: the module's remap_crc(), with the crc field (bytes 4..7) taken as zero. */
export function sectorCrc(sector: Uint8Array): number {
  const copy = Uint8Array.from(sector.subarray(0, SECTOR_BYTES));
  copy.fill(0, 4, 8);
  return crc32Le(CRC_SEED, copy);
}

type CopyVerdict =
  { kind: 'zero' } | { kind: 'bad'; why: string } | { kind: 'valid'; superblock: SpareSuperblock };

/** One copy as check_sb() sees it; `sector` undefined means it could not be read. */
export function parseSuperblockCopy(sector: Uint8Array | undefined): CopyVerdict {
  if (sector === undefined || sector.length < SECTOR_BYTES) return { kind: 'bad', why: 'unreadable' };
  if (sector.every((byte) => byte === 0)) return { kind: 'zero' };
  const view = new DataView(sector.buffer, sector.byteOffset, SECTOR_BYTES);
  if (view.getUint32(0, true) !== SUPERBLOCK_MAGIC) return { kind: 'bad', why: 'no dm-remap magic' };
  if (view.getUint32(4, true) !== sectorCrc(sector)) return { kind: 'bad', why: 'checksum mismatch' };
  const idBytes = sector.subarray(MAIN_ID_OFFSET, MAIN_ID_OFFSET + MAIN_ID_BYTES);
  const end = idBytes.indexOf(0);
  return {
    kind: 'valid',
    superblock: {
      version: view.getUint32(8, true),
      blockSectors: view.getUint32(12, true),
      mainSectors: Number(view.getBigUint64(16, true)),
      spareSectors: Number(view.getBigUint64(24, true)),
      sequence: Number(view.getBigUint64(80, true)),
      formatId: view.getBigUint64(32, true).toString(16).padStart(16, '0'),
      // latin1: one character per byte, so the string compares as the module's strncmp does.
      mainId: Buffer.from(end < 0 ? idBytes : idBytes.subarray(0, end)).toString('latin1'),
    },
  };
}

/** What load_sb() makes of the two copies: blank, corrupt, or the copy it adopts (of any version). */
export type SuperblockChoice =
  { kind: 'blank' } | { kind: 'corrupt'; reason: string } | { kind: 'chosen'; superblock: SpareSuperblock };

/** Choose as load_sb() does from the first HEADER_BYTES of a spare (fewer when it is shorter). */
export function chooseSuperblock(header: Uint8Array): SuperblockChoice {
  const [a, b] = SUPERBLOCK_OFFSETS.map((offset) =>
    parseSuperblockCopy(
      header.length >= offset + SECTOR_BYTES ? header.subarray(offset, offset + SECTOR_BYTES) : undefined,
    ),
  ) as [CopyVerdict, CopyVerdict];
  if (a.kind === 'zero' && b.kind === 'zero') return { kind: 'blank' };
  if (a.kind === 'valid' && b.kind === 'valid') {
    const newer = b.superblock.sequence > a.superblock.sequence ? b : a;
    return { kind: 'chosen', superblock: newer.superblock };
  }
  if (a.kind === 'valid') return { kind: 'chosen', superblock: a.superblock };
  if (b.kind === 'valid') return { kind: 'chosen', superblock: b.superblock };
  const describe = (copy: CopyVerdict) => (copy.kind === 'bad' ? copy.why : 'all zero');
  return {
    kind: 'corrupt',
    reason:
      'neither superblock copy is valid dm-remap metadata ' +
      `(sector 0: ${describe(a)}; sector 8: ${describe(b)}): the module refuses such a spare`,
  };
}

/** The verdict on a spare's header: blank, formatted (a version this reconciler reads), or unknown with why. */
export function parseSpareHeader(header: Uint8Array): SpareMetadata {
  const choice = chooseSuperblock(header);
  if (choice.kind === 'blank') return { state: 'blank' };
  if (choice.kind === 'corrupt') return { state: 'unknown', reason: choice.reason };
  const { superblock } = choice;
  if (superblock.version !== SUPERBLOCK_VERSION) {
    return {
      state: 'unknown',
      reason: `the spare's metadata is format version ${superblock.version}; this reconciler reads version ${SUPERBLOCK_VERSION}`,
    };
  }
  return { state: 'formatted', superblock };
}

/**
 * Read and judge the superblocks of the spare at `path`. Opened read-only and
 * not exclusively, so a device-mapper device holding the spare is not
 * disturbed; a failure to open or read is reported, not thrown.
 */
export async function readSpareMetadata(path: string, signal?: AbortSignal): Promise<SpareMetadata> {
  if (signal?.aborted) throw abortedError('readSpareMetadata', path);
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    return { state: 'unknown', reason: `cannot read ${path}: ${(error as Error).message}` };
  }
  try {
    const readAt = (offset: number, length: number) => readFully(handle, offset, length);
    let header: Uint8Array;
    try {
      header = await readAt(0, HEADER_BYTES);
    } catch (error) {
      return { state: 'unknown', reason: `cannot read ${path}: ${(error as Error).message}` };
    }
    const metadata = parseSpareHeader(header);
    if (metadata.state !== 'formatted') return metadata;
    const layout = tableLayout(header, metadata.superblock);
    if (!layout) return metadata;
    try {
      return { ...metadata, remapCount: await countRemaps(layout, readAt) };
    } catch {
      return metadata; // the table could not be read: the count is unknown, the superblock still stands
    }
  } finally {
    await handle.close();
  }
}

/** Up to `length` bytes at `offset`; fewer at the end of the device. */
async function readFully(
  handle: Awaited<ReturnType<typeof open>>,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
    if (bytesRead === 0) break; // a device shorter than asked: what is missing counts as unreadable
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/** Entries per table sector (REMAP_ENTRIES_PER_SECTOR), and a table sector's magic "RMPT". */
export const ENTRIES_PER_TABLE_SECTOR = 60;
export const TABLE_MAGIC = 0x54504d52;
/** How much of a table is read to count remaps: 4,096 sectors (245,760 remaps); a longer table counts as at least that. */
export const MAX_TABLE_SECTORS_READ = 4_096;
const TABLE_READ_CHUNK_SECTORS = 64;

export interface TableLayout {
  formatId: bigint;
  tableSectors: number;
  /** First sector of each table copy. */
  tableA: number;
  tableB: number;
}

/** Where the tables are, from the superblock copy the module would adopt (the one with the chosen sequence). */
export function tableLayout(header: Uint8Array, chosen: SpareSuperblock): TableLayout | undefined {
  for (const offset of SUPERBLOCK_OFFSETS) {
    if (header.length < offset + SECTOR_BYTES) continue;
    const sector = header.subarray(offset, offset + SECTOR_BYTES);
    const verdict = parseSuperblockCopy(sector);
    if (verdict.kind !== 'valid' || verdict.superblock.sequence !== chosen.sequence) continue;
    const view = new DataView(sector.buffer, sector.byteOffset, SECTOR_BYTES);
    return {
      formatId: view.getBigUint64(32, true),
      tableSectors: Number(view.getBigUint64(40, true)),
      tableA: Number(view.getBigUint64(48, true)),
      tableB: Number(view.getBigUint64(56, true)),
    };
  }
  return undefined;
}

type TableSectorVerdict = { kind: 'empty' } | { kind: 'bad' } | { kind: 'valid'; seq: bigint; count: number };

/** One table sector as the module's check_table() sees it; a sector of an earlier format counts as empty. */
export function parseTableSector(
  sector: Uint8Array | undefined,
  layout: TableLayout,
  index: number,
): TableSectorVerdict {
  if (sector === undefined || sector.length < SECTOR_BYTES) return { kind: 'bad' };
  if (sector.every((byte) => byte === 0)) return { kind: 'empty' };
  const view = new DataView(sector.buffer, sector.byteOffset, SECTOR_BYTES);
  if (view.getUint32(0, true) !== TABLE_MAGIC || view.getUint32(4, true) !== sectorCrc(sector)) {
    return { kind: 'bad' };
  }
  if (view.getBigUint64(8, true) !== layout.formatId) return { kind: 'empty' };
  const count = view.getUint32(28, true);
  if (view.getUint32(24, true) !== index || count > ENTRIES_PER_TABLE_SECTOR) return { kind: 'bad' };
  return { kind: 'valid', seq: view.getBigUint64(16, true), count };
}

/**
 * The number of remaps in the table, as the module's loader counts them:
 * sector by sector, the newer valid copy of each, ending at the first sector
 * that is not full (or has no valid copy).
 */
export async function countRemaps(
  layout: TableLayout,
  readAt: (offset: number, length: number) => Promise<Uint8Array>,
): Promise<number> {
  const limit = Math.min(layout.tableSectors, MAX_TABLE_SECTORS_READ);
  let remaps = 0;
  for (let first = 0; first < limit; first += TABLE_READ_CHUNK_SECTORS) {
    const sectors = Math.min(TABLE_READ_CHUNK_SECTORS, limit - first);
    const [a, b] = await Promise.all(
      [layout.tableA, layout.tableB].map((start) =>
        readAt((start + first) * SECTOR_BYTES, sectors * SECTOR_BYTES),
      ),
    );
    for (let i = 0; i < sectors; i += 1) {
      const index = first + i;
      const slice = (copy: Uint8Array | undefined) =>
        copy && copy.length >= (i + 1) * SECTOR_BYTES
          ? copy.subarray(i * SECTOR_BYTES, (i + 1) * SECTOR_BYTES)
          : undefined;
      const va = parseTableSector(slice(a), layout, index);
      const vb = parseTableSector(slice(b), layout, index);
      const valid = [va, vb].filter(
        (v): v is Extract<TableSectorVerdict, { kind: 'valid' }> => v.kind === 'valid',
      );
      if (valid.length === 0) {
        if (va.kind === 'empty' && vb.kind === 'empty') return remaps;
        // Unreadable or damaged in both copies: how many remaps follow is unknown.
        throw new Error(`table sector ${index} has no valid copy`);
      }
      const newest = valid.reduce((x, y) => (y.seq > x.seq ? y : x));
      remaps += newest.count;
      if (newest.count < ENTRIES_PER_TABLE_SECTOR) return remaps;
    }
  }
  return remaps;
}
