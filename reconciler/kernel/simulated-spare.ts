/**
 * The spares of the simulated kernel, kept as bytes: the first 8 KiB of each
 * spare disk, written in the module's superblock layout when a remap table
 * first goes live on a blank spare (the module formats in preresume), and
 * judged on every table load as the module's constructor judges them
 * (load_sb() and check_identity() in kmod/dm-remap-metadata.c). Because they
 * are real bytes, `readSpareMetadata` parses them with the same code that
 * reads a real spare, and a test can damage or pre-format one byte by byte.
 * Of the table area the remaps are kept as runs of blocks and slots
 * (simulated-remaps.ts), not as table sectors.
 */
import { randomBytes } from 'node:crypto';

import { KernelError } from './adapter.js';
import type { RemapTable, SpareMetadata, SpareSuperblock } from './adapter.js';
import {
  chooseSuperblock,
  HEADER_BYTES,
  MAIN_ID_BYTES,
  MAIN_ID_OFFSET,
  parseSpareHeader,
  SECTOR_BYTES,
  sectorCrc,
  SUPERBLOCK_MAGIC,
  SUPERBLOCK_OFFSETS,
  SUPERBLOCK_VERSION,
} from './spare-superblock.js';
import { RemapRuns } from './simulated-remaps.js';

/** One superblock sector as the module's fill_sb() writes it (layout fields left zero: not modelled). */
export function encodeSuperblock(
  fields: Omit<SpareSuperblock, 'version'> & { version?: number },
): Uint8Array {
  const sector = new Uint8Array(SECTOR_BYTES);
  const view = new DataView(sector.buffer);
  view.setUint32(0, SUPERBLOCK_MAGIC, true);
  view.setUint32(8, fields.version ?? SUPERBLOCK_VERSION, true);
  view.setUint32(12, fields.blockSectors, true);
  view.setBigUint64(16, BigInt(fields.mainSectors), true);
  view.setBigUint64(24, BigInt(fields.spareSectors), true);
  sector.set(randomBytes(8), 32); // format_id: random, as the module chooses it
  view.setBigUint64(80, BigInt(fields.sequence), true);
  const id = Buffer.from(fields.mainId, 'latin1');
  if (id.length >= MAIN_ID_BYTES) throw new RangeError(`main_id "${fields.mainId}" is too long`);
  sector.set(id, MAIN_ID_OFFSET);
  view.setUint32(4, sectorCrc(sector), true);
  return sector;
}

/** Both copies of a freshly formatted spare, as the module leaves them. */
export function formattedHeader(fields: Omit<SpareSuperblock, 'version'>): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES);
  const sector = encodeSuperblock(fields);
  for (const offset of SUPERBLOCK_OFFSETS) header.set(sector, offset);
  return header;
}

/** Builds the KernelError the module's refusal becomes (the simulator prefixes "load NAME: remap: "). */
export type Refuse = (message: string, code?: string) => KernelError;

export class SimulatedSpares {
  /** Header bytes per spare disk ("M:m"); a disk not listed is all zero. */
  private readonly headers = new Map<string, Uint8Array>();
  /** Remaps recorded in each formatted spare's table. */
  private readonly remaps = new Map<string, RemapRuns>();

  /** Remaps the table of `majorMinor` holds. */
  remapCount(majorMinor: string): number {
    return this.remaps.get(majorMinor)?.size ?? 0;
  }

  /** The remaps in the table of `majorMinor`, which a message may add to. */
  remapsOf(majorMinor: string): RemapRuns {
    let runs = this.remaps.get(majorMinor);
    if (!runs) this.remaps.set(majorMinor, (runs = new RemapRuns()));
    return runs;
  }

  /** The module appended `count` remaps to the table of `majorMinor` (the lowest blocks not remapped yet). */
  addRemaps(majorMinor: string, count: number): void {
    this.remapsOf(majorMinor).add(0, Number.MAX_SAFE_INTEGER, count);
  }

  /** Put back remaps saved from `remapsOf(majorMinor).toJSON()`, replacing what the table held. */
  restoreRemaps(majorMinor: string, saved: unknown): void {
    this.remaps.set(majorMinor, RemapRuns.fromJSON(saved));
  }

  /** A copy of the first HEADER_BYTES of `majorMinor`. */
  header(majorMinor: string): Uint8Array {
    // slice() copies with one memcpy; Uint8Array.from() walks an iterator byte by byte.
    return this.headers.get(majorMinor)?.slice() ?? new Uint8Array(HEADER_BYTES);
  }

  /** Overwrite bytes at `offset` (within the header): what `dd` to the spare would do. */
  write(majorMinor: string, offset: number, bytes: Uint8Array): void {
    if (offset < 0 || offset + bytes.length > HEADER_BYTES) {
      throw new RangeError(`the simulator keeps only the first ${HEADER_BYTES} bytes of a spare`);
    }
    const header = this.header(majorMinor);
    header.set(bytes, offset);
    this.headers.set(majorMinor, header);
  }

  metadata(majorMinor: string): SpareMetadata {
    const metadata = parseSpareHeader(this.header(majorMinor));
    return metadata.state === 'formatted'
      ? { ...metadata, remapCount: this.remapCount(majorMinor) }
      : metadata;
  }

  /** The constructor's checks of a spare against a table, in the module's order. */
  check(majorMinor: string, remap: RemapTable, spareSectorsNow: number, refuse: Refuse): void {
    const choice = chooseSuperblock(this.header(majorMinor));
    if (choice.kind === 'blank') return;
    if (choice.kind === 'corrupt') {
      throw refuse('Both metadata superblocks on the spare are corrupt or foreign', 'EILSEQ');
    }
    const superblock = choice.superblock;
    if (superblock.version !== SUPERBLOCK_VERSION)
      throw refuse('Spare metadata has an unknown format version');
    if (superblock.mainSectors !== remap.lengthSectors)
      throw refuse('Spare belongs to a main device of another size');
    if (superblock.blockSectors !== remap.blockSizeSectors)
      throw refuse('Spare was formatted with another block_size');
    // strncmp of the stored string with the table's ('' when the table gives none).
    if (superblock.mainId !== (remap.mainId ?? '')) throw refuse('Spare belongs to another main_id');
    if (superblock.spareSectors > spareSectorsNow)
      throw refuse('Spare device is smaller than when it was formatted');
  }

  /** preresume: a blank spare is formatted for the table going live; anything else is left as it is. */
  formatIfBlank(majorMinor: string, remap: RemapTable, spareSectors: number): void {
    if (this.metadata(majorMinor).state !== 'blank') return;
    this.remaps.delete(majorMinor);
    this.headers.set(
      majorMinor,
      formattedHeader({
        blockSectors: remap.blockSizeSectors,
        mainSectors: remap.lengthSectors,
        spareSectors,
        sequence: 1, // the module's first sequence number, as a real format shows it
        mainId: remap.mainId ?? '',
      }),
    );
  }
}
