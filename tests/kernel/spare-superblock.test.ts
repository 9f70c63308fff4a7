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
  crc32Le,
  HEADER_BYTES,
  parseSpareHeader,
  readSpareMetadata,
  sectorCrc,
} from '../../reconciler/kernel/spare-superblock.js';
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
