/** Parsing and formatting of remap table and status lines (kmod/dm-remap-target.c is the reference). */
import test from 'ava';
import fc from 'fast-check';

import type { RemapStatus, RemapTable } from '../../reconciler/kernel/adapter.js';
import { formatRemapStatus, parseRemapStatus } from '../../reconciler/kernel/status.js';
import {
  formatRemapTable,
  parseRemapTable,
  parseTableLine,
  TableSyntaxError,
} from '../../reconciler/kernel/table.js';

test('a remap line as dmsetup table prints it parses with defaults for absent features', (t) => {
  t.deepEqual(parseRemapTable(parseTableLine('0 8192 remap 7:0 7:1')), {
    startSector: 0,
    lengthSectors: 8192,
    mainDevice: '7:0',
    spareDevice: '7:1',
    blockSizeSectors: 8,
    readRetries: 3,
  });
});

test('features are read in any order and case, main_id included', (t) => {
  const table = parseRemapTable(
    parseTableLine('0 64 remap 8:0 8:16 6 READ_RETRIES 1 main_id disk-A block_size 16'),
  );
  t.like(table, { blockSizeSectors: 16, readRetries: 1, mainId: 'disk-A' });
});

test('malformed remap args are refused with a reason', (t) => {
  const cases: [string, RegExp][] = [
    ['0 64 remap 8:0', /needs <main_dev> <spare_dev>/],
    ['0 64 remap 8:0 8:16 2 block_size', /#feature_args is 2 but 1/],
    ['0 64 remap 8:0 8:16 2 block_size 12', /power of two/],
    ['0 64 remap 8:0 8:16 4 block_size 8 block_size 8', /duplicated/],
    ['0 64 remap 8:0 8:16 2 colour blue', /unknown feature colour/],
    ['0 64 linear 8:0 0', /not "remap"/],
  ];
  for (const [line, reason] of cases) {
    t.throws(
      () => parseRemapTable(parseTableLine(line)),
      { instanceOf: TableSyntaxError, message: reason },
      line,
    );
  }
});

test('a table line needs start, length and target', (t) => {
  t.throws(() => parseTableLine('0 8'), { instanceOf: TableSyntaxError });
  t.throws(() => parseTableLine('x 8 zero'), { instanceOf: TableSyntaxError });
  t.deepEqual(parseTableLine('0 8 zero'), { startSector: 0, lengthSectors: 8, targetType: 'zero', args: '' });
});

test('the status line the module prints parses, with its extra keys kept', (t) => {
  const line =
    'health=degraded remapped=3 pending=1 spare_used=3 spare_total=480 read_errors=5 write_errors=0 ' +
    'remap_failures=0 metadata_seq=7 block_size=8 lost_sectors=0';
  t.deepEqual(parseRemapStatus(line), {
    health: 'degraded',
    remappedBlocks: 3,
    pendingBlocks: 1,
    spareBlocksUsed: 3,
    spareBlocksTotal: 480,
    readErrors: 5,
    writeErrors: 0,
    remapFailures: 0,
    metadataSequence: 7,
    extra: { block_size: '8', lost_sectors: '0' },
  });
});

test('a module 1.1 status line parses: health=failing, and other_errors kept as an extra key', (t) => {
  // As printed by dm-remap.ko 1.1 in the guest (a main declared failing after failing_after blocks).
  const line =
    'health=failing remapped=7 pending=0 spare_used=7 spare_total=4076 read_errors=0 write_errors=12 ' +
    'remap_failures=0 metadata_seq=8 block_size=8 lost_sectors=0 other_errors=2';
  const status = parseRemapStatus(line);
  t.is(status.health, 'failing');
  t.is(status.writeErrors, 12);
  t.deepEqual(status.extra, { block_size: '8', lost_sectors: '0', other_errors: '2' });
});

const FULL_STATUS =
  'health=ok remapped=0 pending=0 spare_used=0 spare_total=1 read_errors=0 write_errors=0 remap_failures=0 metadata_seq=0';

test('a status missing a counter or health, with an empty health or a repeated key is refused', (t) => {
  t.notThrows(() => parseRemapStatus(FULL_STATUS));
  t.throws(() => parseRemapStatus(FULL_STATUS.replace(' pending=0', '')), { message: /lacks pending=/ });
  t.throws(() => parseRemapStatus(FULL_STATUS.replace('health=ok ', '')), { message: /lacks health=/ });
  t.throws(() => parseRemapStatus(FULL_STATUS.replace('health=ok', 'health=')), { message: /empty health=/ });
  t.throws(() => parseRemapStatus(`${FULL_STATUS} remapped=1`), { message: /repeated/ });
  t.throws(() => parseRemapStatus(`${FULL_STATUS} junk`), { message: /not key=value/ });
});

test('a health value this reconciler does not know (a newer module) is kept as printed, not refused', (t) => {
  const status = parseRemapStatus(`${FULL_STATUS.replace('health=ok', 'health=rebuilding')} rebuild_done=40`);
  t.is(status.health, 'rebuilding');
  t.deepEqual(status.extra, { rebuild_done: '40' });
  t.is(formatRemapStatus(status).split(' ')[0], 'health=rebuilding', 'and printed back the same way');
});

const remapTables = fc.record<RemapTable>(
  {
    startSector: fc.nat(),
    lengthSectors: fc.integer({ min: 1, max: 2 ** 40 }),
    mainDevice: fc.tuple(fc.nat(4095), fc.nat(2 ** 20)).map(([major, minor]) => `${major}:${minor}`),
    spareDevice: fc.tuple(fc.nat(4095), fc.nat(2 ** 20)).map(([major, minor]) => `${major}:${minor}`),
    blockSizeSectors: fc.integer({ min: 0, max: 16 }).map((shift) => 2 ** shift),
    readRetries: fc.nat(100),
    mainId: fc.stringMatching(/^[A-Za-z0-9_.-]{1,63}$/),
  },
  {
    requiredKeys: [
      'startSector',
      'lengthSectors',
      'mainDevice',
      'spareDevice',
      'blockSizeSectors',
      'readRetries',
    ],
  },
);

test('formatting a remap table and parsing it back gives the same table', (t) => {
  fc.assert(
    fc.property(remapTables, (table) => {
      t.deepEqual(parseRemapTable(parseTableLine(formatRemapTable(table))), table);
    }),
  );
});

const statuses = fc.record<RemapStatus>({
  health: fc.constantFrom('ok', 'degraded', 'spare_full', 'failing', 'metadata_error'),
  remappedBlocks: fc.nat(),
  pendingBlocks: fc.nat(),
  spareBlocksUsed: fc.nat(),
  spareBlocksTotal: fc.nat(),
  readErrors: fc.nat(),
  writeErrors: fc.nat(),
  remapFailures: fc.nat(),
  metadataSequence: fc.nat(),
  extra: fc.dictionary(fc.stringMatching(/^x_[a-z]{1,8}$/), fc.stringMatching(/^[a-z0-9]{0,8}$/)),
});

test('formatting a status and parsing it back gives the same status', (t) => {
  fc.assert(
    fc.property(statuses, (status) => {
      t.deepEqual(parseRemapStatus(formatRemapStatus(status)), status);
    }),
  );
});
