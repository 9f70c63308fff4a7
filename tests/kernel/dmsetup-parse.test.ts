/**
 * The dmsetup output parsers against output captured from a real 6.1 kernel
 * (tests/kernel/capture-dmsetup.sh): no devices; then an owned remap device,
 * a name full of separators ("odd: name, with; chars\ and spaces") next to a
 * device named "odd", a device with no table, one with only an inactive
 * table, a suspended one without UUID and an open two-target one.
 */
import { readFileSync } from 'node:fs';

import test from 'ava';

import {
  DmsetupOutputError,
  formatConcise,
  parseAttr,
  parseConciseTables,
  parseInfoColumns,
  parseNamedLines,
  parseTargets,
} from '../../reconciler/kernel/dmsetup-parse.js';
import { parseRemapStatus } from '../../reconciler/kernel/status.js';

const ODD = 'odd: name, with; chars\\ and spaces';

function sample(name: string): string {
  return readFileSync(new URL(`fixtures/dmsetup/${name}.txt`, import.meta.url), 'utf8');
}

test('with no devices every listing parses to nothing', (t) => {
  t.deepEqual(parseInfoColumns(sample('info-empty')), []);
  t.deepEqual(parseConciseTables(sample('table-concise-empty')), []);
  t.deepEqual(parseNamedLines(sample('status-empty'), []).size, 0);
  t.deepEqual(parseInfoColumns(''), []);
  t.deepEqual(parseConciseTables(''), []);
});

test('info -c rows carry names with separators, empty UUIDs and the attr flags', (t) => {
  const rows = parseInfoColumns(sample('info-devices'));
  t.deepEqual(
    rows.map((row) => row.name),
    ['disk0', 'halfdone', 'notable', 'odd', ODD, 'suspended', 'twolines'],
  );
  const byName = new Map(rows.map((row) => [row.name, row]));
  t.like(byName.get('disk0'), {
    uuid: 'DMREMAP-disk0',
    major: 253,
    minor: 0,
    hasLiveTable: true,
    suspended: false,
  });
  t.like(byName.get('halfdone'), { hasLiveTable: false, hasInactiveTable: true });
  t.like(byName.get('notable'), { hasLiveTable: false, hasInactiveTable: false, suspended: false });
  t.like(byName.get(ODD), { uuid: 'DMREMAP-odd', minor: 1 });
  t.like(byName.get('suspended'), { uuid: '', suspended: true });
  t.like(byName.get('twolines'), { openCount: 1 });
});

test('table --concise unescapes names and keeps every target line, and no line for a device without table', (t) => {
  const devices = new Map(
    parseConciseTables(sample('table-concise-devices')).map((device) => [device.name, device]),
  );
  t.deepEqual(devices.get(ODD), {
    name: ODD,
    uuid: 'DMREMAP-odd',
    minor: 1,
    flags: 'rw',
    table: [{ startSector: 0, lengthSectors: 100, targetType: 'linear', args: '7:0 0' }],
  });
  t.deepEqual(devices.get('notable')?.table, []);
  t.deepEqual(devices.get('halfdone')?.table, [], 'the inactive table is not the live one');
  t.deepEqual(
    devices.get('twolines')?.table.map((line) => line.targetType),
    ['linear', 'zero'],
  );
  t.is(devices.get('disk0')?.table[0]?.args, '7:0 7:1 4 block_size 8 read_retries 3');
});

test('status lines go to the longest name that prefixes them', (t) => {
  const names = parseInfoColumns(sample('info-devices')).map((row) => row.name);
  const statuses = parseNamedLines(sample('status-devices'), names);
  t.deepEqual(statuses.get('odd'), {
    lines: [{ startSector: 0, lengthSectors: 100, targetType: 'linear', args: '' }],
  });
  t.is(statuses.get(ODD)?.lines.length, 1);
  t.deepEqual(statuses.get('notable'), { lines: [] });
  t.is(statuses.get('twolines')?.lines.length, 2);
  const remap = statuses.get('disk0')?.lines[0];
  t.is(remap?.targetType, 'remap');
  t.like(parseRemapStatus(remap?.args ?? ''), {
    health: 'ok',
    spareBlocksTotal: 1016,
    metadataSequence: 1,
    extra: { block_size: '8', lost_sectors: '0' },
  });
});

test('the plain table listing parses the same way as status', (t) => {
  const names = parseInfoColumns(sample('info-devices')).map((row) => row.name);
  const tables = parseNamedLines(sample('table-devices'), names);
  t.is(tables.get(ODD)?.lines[0]?.args, '7:0 0');
  t.is(tables.get('odd')?.lines[0]?.args, '7:0 100');
});

test('lines of devices that appeared after the listing are skipped', (t) => {
  const statuses = parseNamedLines(sample('status-devices'), ['disk0']);
  t.deepEqual([...statuses.keys()], ['disk0']);
});

test('a line that cannot be parsed makes only its own device unreadable', (t) => {
  const statuses = parseNamedLines('a: 0 8 linear \nb: 0 8 remap health=ok\nb: garbage\nc: 0 8 zero \n', [
    'a',
    'b',
    'c',
  ]);
  t.deepEqual(statuses.get('a')?.lines.length, 1);
  t.deepEqual(statuses.get('c')?.lines.length, 1);
  t.regex(statuses.get('b')?.unreadable ?? '', /garbage/);
  const tables = parseConciseTables('a,DMREMAP-a,0,rw,0 8 zero;b,DMREMAP-b,1,rw,0 x zero;c,,2,rw,0 8 zero');
  t.deepEqual(
    tables.map((device) => [device.name, device.table.length, device.unreadable]),
    [
      ['a', 1, undefined],
      ['b', 0, 'length "x" is not a non-negative integer'],
      ['c', 1, undefined],
    ],
  );
});

test('targets lists the registered target names', (t) => {
  t.deepEqual(parseTargets(sample('targets-devices')), ['zero', 'remap', 'striped', 'linear', 'error']);
});

test('formatConcise escapes what parseConciseTables unescapes', (t) => {
  const spec = formatConcise([
    { name: ODD, uuid: 'DMREMAP-odd', table: ['0 8 zero', '8 8 error'] },
    { name: 'plain', uuid: 'DMREMAP-plain', table: ['0 8 zero'] },
  ]);
  t.is(
    spec,
    'odd: name\\, with\\; chars\\\\ and spaces,DMREMAP-odd,,,0 8 zero,8 8 error;plain,DMREMAP-plain,,,0 8 zero',
  );
  const parsed = parseConciseTables(spec);
  t.deepEqual(
    parsed.map((device) => [device.name, device.uuid, device.table.length]),
    [
      [ODD, 'DMREMAP-odd', 2],
      ['plain', 'DMREMAP-plain', 1],
    ],
  );
});

test('unexpected info output is an error, not a guess', (t) => {
  t.throws(() => parseAttr('LIX'), { instanceOf: DmsetupOutputError });
  t.throws(() => parseInfoColumns('just one column\n'), { instanceOf: DmsetupOutputError });
  t.throws(() => parseInfoColumns('u\u001fx\u001f1\u001fL--w\u001f0\u001fname\n'), {
    instanceOf: DmsetupOutputError,
  });
});
