/**
 * Reading a spare's superblocks from user space: the checksum as the kernel
 * computes it, the verdict on superblocks the real module wrote
 * (tests/kernel/fixtures/spare/, from tests/kernel/capture-spare.sh), and the
 * module's choice between two copies when one is damaged, missing or older.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import test from 'ava';
import fc from 'fast-check';

import {
  countRemaps,
  crc32Le,
  HEADER_BYTES,
  parseSpareHeader,
  readSpareMetadata,
  SECTOR_BYTES,
  sectorCrc,
  SUPERBLOCK_MAGIC,
  TABLE_MAGIC,
  tableLayout,
} from '../../reconciler/kernel/spare-superblock.js';
import type { TableLayout } from '../../reconciler/kernel/spare-superblock.js';
import { encodeSuperblock } from '../../reconciler/kernel/simulated-spare.js';
import type { SpareMetadata } from '../../reconciler/kernel/adapter.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures/spare');
const fixture = async (name: string) => new Uint8Array(await fs.readFile(path.join(FIXTURES, name)));
const unknownReason = (metadata: SpareMetadata) =>
  metadata.state === 'unknown' ? metadata.reason : metadata.state;

test('crc32Le is zlib crc32 without its pre- and post-inversion', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      return (crc32Le(0xffffffff, bytes) ^ 0xffffffff) >>> 0 === zlib.crc32(bytes);
    }),
  );
  t.is(crc32Le(0, new Uint8Array(0)), 0);
});

test('the checksum of a superblock the module wrote is the one stored in it', async (t) => {
  const header = await fixture('main-id.bin');
  const stored = new DataView(header.buffer, header.byteOffset).getUint32(4, true);
  t.is(sectorCrc(header.subarray(0, 512)), stored);
});

test('a spare the module formatted with main_id reads as formatted, with its main_id', async (t) => {
  t.deepEqual(parseSpareHeader(await fixture('main-id.bin')), {
    state: 'formatted',
    superblock: {
      version: 1,
      blockSectors: 8,
      mainSectors: 8192,
      spareSectors: 8192,
      sequence: 1,
      formatId: 'd658478d8e818592',
      mainId: 'naa.5000c500a1b2c3d4',
    },
  });
});

test('a spare formatted by a table without main_id reads with an empty main_id', async (t) => {
  t.like(parseSpareHeader(await fixture('legacy.bin')), {
    state: 'formatted',
    superblock: { blockSectors: 16, mainId: '' },
  });
});

test('all zero is blank; so is nothing but zeros in both copies', (t) => {
  t.deepEqual(parseSpareHeader(new Uint8Array(HEADER_BYTES)), { state: 'blank' });
});

test('one damaged or zeroed copy: the other is used, as the module repairs from it', async (t) => {
  for (const offset of [0, 4096]) {
    for (const damage of ['flip', 'zero'] as const) {
      const header = await fixture('main-id.bin');
      if (damage === 'flip') header[offset + 100] = header[offset + 100]! ^ 0x01;
      else header.fill(0, offset, offset + 512);
      t.like(
        parseSpareHeader(header),
        { state: 'formatted', superblock: { mainId: 'naa.5000c500a1b2c3d4' } },
        `${damage} at ${offset}`,
      );
    }
  }
});

test('neither copy valid: unknown, saying what is wrong with each, and that the module refuses it', async (t) => {
  const header = await fixture('main-id.bin');
  header[100] = header[100]! ^ 0x01;
  header.fill(0, 4096, 4096 + 512);
  header.set(Buffer.from('XFSB'), 4096); // a filesystem's magic where copy B was
  t.regex(
    unknownReason(parseSpareHeader(header)),
    /sector 0: checksum mismatch; sector 8: no dm-remap magic\): the module refuses such a spare/,
  );
});

test('two valid copies: the one with the higher sequence number wins', (t) => {
  const copy = (sequence: number, mainId: string) =>
    encodeSuperblock({ blockSectors: 8, mainSectors: 8192, spareSectors: 8192, sequence, mainId });
  for (const [a, b, winner] of [
    [1, 2, 'b'],
    [2, 1, 'a'],
    [3, 3, 'a'],
  ] as const) {
    const header = new Uint8Array(HEADER_BYTES);
    header.set(copy(a, 'a'), 0);
    header.set(copy(b, 'b'), 4096);
    t.like(parseSpareHeader(header), { superblock: { mainId: winner } }, `seq ${a} vs ${b}`);
  }
});

test('a format version this reconciler does not know is unknown, not guessed at', (t) => {
  const header = new Uint8Array(HEADER_BYTES);
  header.set(
    encodeSuperblock({
      version: 2,
      blockSectors: 8,
      mainSectors: 1,
      spareSectors: 1,
      sequence: 1,
      mainId: '',
    }),
  );
  t.regex(unknownReason(parseSpareHeader(header)), /format version 2; this reconciler reads version 1/);
});

test('a spare shorter than both copies: the missing copy counts as unreadable', async (t) => {
  const full = await fixture('main-id.bin');
  t.like(parseSpareHeader(full.subarray(0, 4096)), { state: 'formatted' });
  t.regex(unknownReason(parseSpareHeader(new Uint8Array(4096))), /sector 0: all zero; sector 8: unreadable/);
});

test('readSpareMetadata reads a file or device, and reports one it cannot open', async (t) => {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'dm-remap-spare-'));
  t.teardown(() => fs.rm(directory, { recursive: true, force: true }));
  const file = path.join(directory, 'spare.img');
  await fs.writeFile(file, Buffer.concat([await fixture('legacy.bin'), Buffer.alloc(65536)]));
  t.like(await readSpareMetadata(file), { state: 'formatted', superblock: { mainId: '', blockSectors: 16 } });
  t.regex(
    unknownReason(await readSpareMetadata(path.join(directory, 'missing'))),
    /^cannot read .*missing: ENOENT/,
  );
  await t.throwsAsync(readSpareMetadata(file, AbortSignal.abort()));
});

// ---- the table: how many remaps a spare holds, read as the module's loader reads it

const LAYOUT: TableLayout = { formatId: 0x1234n, tableSectors: 200, tableA: 16, tableB: 216 };

function tableSector(index: number, count: number, seq: number, formatId = LAYOUT.formatId): Uint8Array {
  const sector = new Uint8Array(SECTOR_BYTES);
  const view = new DataView(sector.buffer);
  view.setUint32(0, TABLE_MAGIC, true);
  view.setBigUint64(8, formatId, true);
  view.setBigUint64(16, BigInt(seq), true);
  view.setUint32(24, index, true);
  view.setUint32(28, count, true);
  view.setUint32(4, sectorCrc(sector), true);
  return sector;
}

/** A spare image holding the given sectors of copy A and copy B. */
function spareImage(a: Uint8Array[], b: Uint8Array[]) {
  const image = new Uint8Array((LAYOUT.tableB + LAYOUT.tableSectors) * SECTOR_BYTES);
  a.forEach((sector, index) => image.set(sector, (LAYOUT.tableA + index) * SECTOR_BYTES));
  b.forEach((sector, index) => image.set(sector, (LAYOUT.tableB + index) * SECTOR_BYTES));
  return (offset: number, length: number) => Promise.resolve(image.slice(offset, offset + length));
}

test('a table ending in its first sector counts that sector', async (t) => {
  t.is(await countRemaps(LAYOUT, spareImage([tableSector(0, 3, 5)], [tableSector(0, 3, 5)])), 3);
});

test('an empty table counts none', async (t) => {
  t.is(await countRemaps(LAYOUT, spareImage([], [])), 0);
});

test('full sectors are followed to the first one that is not full', async (t) => {
  const a = [tableSector(0, 60, 2), tableSector(1, 60, 3), tableSector(2, 7, 4)];
  t.is(await countRemaps(LAYOUT, spareImage(a, a)), 127);
});

test('the newer valid copy wins, and a damaged copy is read from the other', async (t) => {
  const damaged = tableSector(0, 9, 9);
  damaged[40] = 0xff; // the CRC no longer holds
  t.is(await countRemaps(LAYOUT, spareImage([tableSector(0, 4, 8)], [tableSector(0, 5, 9)])), 5);
  t.is(await countRemaps(LAYOUT, spareImage([damaged], [tableSector(0, 2, 3)])), 2);
});

test('a table sector damaged in both copies leaves the count unknown', async (t) => {
  const damaged = tableSector(0, 9, 9);
  damaged[40] = 0xff;
  await t.throwsAsync(countRemaps(LAYOUT, spareImage([damaged], [damaged])), { message: /no valid copy/ });
});

test('sectors of an earlier format of the spare count as empty', async (t) => {
  const old = tableSector(0, 40, 50, 0x9999n);
  t.is(await countRemaps(LAYOUT, spareImage([old], [old])), 0);
});

test('the table copies are found through the superblock the module would adopt', (t) => {
  const header = new Uint8Array(HEADER_BYTES);
  const sb = new Uint8Array(SECTOR_BYTES);
  const view = new DataView(sb.buffer);
  view.setUint32(0, SUPERBLOCK_MAGIC, true);
  view.setUint32(8, 1, true);
  view.setBigUint64(32, 0x1234n, true);
  view.setBigUint64(40, 200n, true);
  view.setBigUint64(48, 16n, true);
  view.setBigUint64(56, 216n, true);
  view.setBigUint64(80, 3n, true);
  view.setUint32(4, sectorCrc(sb), true);
  header.set(sb, 0);
  header.set(sb, 8 * SECTOR_BYTES);
  const metadata = parseSpareHeader(header);
  if (metadata.state !== 'formatted') return t.fail(metadata.state);
  t.deepEqual(tableLayout(header, metadata.superblock), LAYOUT);
});
