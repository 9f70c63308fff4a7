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
  let header: Uint8Array;
  try {
    header = await readHeader(path);
  } catch (error) {
    return { state: 'unknown', reason: `cannot read ${path}: ${(error as Error).message}` };
  }
  return parseSpareHeader(header);
}

async function readHeader(path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(HEADER_BYTES);
    let filled = 0;
    while (filled < HEADER_BYTES) {
      const { bytesRead } = await handle.read(buffer, filled, HEADER_BYTES - filled, filled);
      if (bytesRead === 0) break; // a device shorter than the header: the missing copy counts as unreadable
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}
