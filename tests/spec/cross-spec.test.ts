/** Rules across all documents, fed with built documents and injected device identities (no I/O). */
import test from 'ava';
import { checkAcrossSpecs, normalizedPathIdentity } from '../../reconciler/spec/index.js';
import type { CheckedDocument, DeviceSpec } from '../../reconciler/spec/index.js';
import { deviceSpec } from '../helpers/specs.js';

/** A checked document whose fields sit at fixed columns of a 7-line document starting at `line`. */
function document(file: string, line: number, spec: Partial<DeviceSpec> & { name: string }): CheckedDocument {
  return {
    spec: deviceSpec(spec.name, { source: { file, line, column: 1 }, ...spec }),
    at: {
      name: { line: line + 3, column: 9 },
      mainDevice: { line: line + 5, column: 15 },
      spareDevice: { line: line + 6, column: 16 },
    },
  };
}

const summary = (result: ReturnType<typeof checkAcrossSpecs>) =>
  result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`);

test('specs without conflicts are all accepted', (t) => {
  const documents = [document('a.yaml', 1, { name: 'a' }), document('b.yaml', 1, { name: 'b' })];
  const result = checkAcrossSpecs(documents);
  t.deepEqual(result.diagnostics, []);
  t.deepEqual(result.accepted, documents);
});

test('a name declared in two files rejects both and names the other place', (t) => {
  const keep = document('c.yaml', 1, { name: 'c' });
  const result = checkAcrossSpecs([
    document('a.yaml', 1, { name: 'data0' }),
    keep,
    document('b.yaml', 9, {
      name: 'data0',
      mainDevice: '/dev/disk/by-id/m2',
      spareDevice: '/dev/disk/by-id/s2',
    }),
  ]);
  t.deepEqual(summary(result), [
    "a.yaml:4:9 duplicate-name device name 'data0' is also declared at b.yaml:12:9",
    "b.yaml:12:9 duplicate-name device name 'data0' is also declared at a.yaml:4:9",
  ]);
  t.deepEqual(result.accepted, [keep]);
});

test('one disk used by two specs rejects both, whatever its role in each', (t) => {
  const result = checkAcrossSpecs([
    document('a.yaml', 1, { name: 'a', spareDevice: '/dev/disk/by-id/shared' }),
    document('b.yaml', 1, { name: 'b', mainDevice: '/dev/disk/by-id/shared' }),
  ]);
  t.deepEqual(summary(result), [
    "a.yaml:7:16 shared-device spec.spareDevice /dev/disk/by-id/shared is also used by device 'b' as its mainDevice (b.yaml:6:15)",
    "b.yaml:6:15 shared-device spec.mainDevice /dev/disk/by-id/shared is also used by device 'a' as its spareDevice (a.yaml:7:16)",
  ]);
  t.deepEqual(result.accepted, []);
});

test('two spellings of one device are caught through the identity the loader resolved', (t) => {
  // As the loader reports two symlinks to one block device: same major:minor.
  const identities = new Map([
    ['/dev/disk/by-id/ata-X', 'block:2049'],
    ['/dev/disk/by-path/pci-0000:00:1f.2-ata-1', 'block:2049'],
  ]);
  const identityOf = (p: string) => identities.get(p) ?? p;
  const result = checkAcrossSpecs(
    [
      document('a.yaml', 1, { name: 'a', mainDevice: '/dev/disk/by-id/ata-X' }),
      document('b.yaml', 1, { name: 'b', mainDevice: '/dev/disk/by-path/pci-0000:00:1f.2-ata-1' }),
      document('c.yaml', 1, {
        name: 'c',
        mainDevice: '/dev/disk/by-id/ata-Y',
        spareDevice: '/dev/disk/by-id/ata-Y-link',
      }),
    ],
    (p) => (p === '/dev/disk/by-id/ata-Y-link' ? '/dev/disk/by-id/ata-Y' : identityOf(p)),
  );
  t.deepEqual(
    result.diagnostics.map((d) => [d.file, d.code]),
    [
      ['c.yaml', 'same-main-and-spare'],
      ['a.yaml', 'shared-device'],
      ['b.yaml', 'shared-device'],
    ],
  );
  t.is(
    result.diagnostics[0]?.message,
    'spec.spareDevice must be a different device from spec.mainDevice ' +
      '(/dev/disk/by-id/ata-Y-link and /dev/disk/by-id/ata-Y are one device)',
  );
  t.deepEqual(result.accepted, []);
});

test('without I/O, paths are compared after normalization', (t) => {
  const result = checkAcrossSpecs([
    document('a.yaml', 1, {
      name: 'a',
      mainDevice: '/dev/disk/by-id/x',
      spareDevice: '/dev/disk/./by-id//x',
    }),
  ]);
  t.deepEqual(
    result.diagnostics.map((d) => [d.code, d.line, d.column]),
    [['same-main-and-spare', 7, 16]],
  );
});

test('a trailing slash or a detour through .. does not hide that two specs name one disk', (t) => {
  t.is(
    normalizedPathIdentity('/dev/disk/../disk/by-id/ata-X/'),
    normalizedPathIdentity('/dev/disk/by-id/ata-X'),
  );
  t.is(normalizedPathIdentity('/dev/disk/by-id/ata-X//'), '/dev/disk/by-id/ata-X');
  t.is(normalizedPathIdentity('/'), '/');
  const result = checkAcrossSpecs([
    document('a.yaml', 1, { name: 'a', mainDevice: '/dev/disk/by-id/ata-X' }),
    document('b.yaml', 1, { name: 'b', spareDevice: '/dev/disk/../disk/by-id/ata-X/' }),
  ]);
  t.deepEqual(summary(result), [
    "a.yaml:6:15 shared-device spec.mainDevice /dev/disk/by-id/ata-X is also used by device 'b' as its spareDevice (b.yaml:7:16)",
    "b.yaml:7:16 shared-device spec.spareDevice /dev/disk/../disk/by-id/ata-X/ is also used by device 'a' as its mainDevice (a.yaml:6:15)",
  ]);
  t.deepEqual(result.accepted, []);
});

test('a conflict among many names the first three other parties and counts the rest', (t) => {
  const files = ['a', 'b', 'c', 'd', 'e', 'f'];
  const shared = checkAcrossSpecs(
    files.map((f) => document(`${f}.yaml`, 1, { name: f, spareDevice: '/dev/disk/by-id/shared' })),
  );
  const claim = (f: string) => `device '${f}' as its spareDevice (${f}.yaml:7:16)`;
  t.is(shared.diagnostics.length, 6, 'every party is told');
  t.is(
    shared.diagnostics[0]?.message,
    `spec.spareDevice /dev/disk/by-id/shared is also used by ${claim('b')} and ${claim('c')} and ${claim('d')} and 2 more devices`,
  );
  t.is(
    shared.diagnostics[5]?.message,
    `spec.spareDevice /dev/disk/by-id/shared is also used by ${claim('a')} and ${claim('b')} and ${claim('c')} and 2 more devices`,
  );

  const named = checkAcrossSpecs(
    files.map((f, i) =>
      document(`${f}.yaml`, 1, { name: 'data0', mainDevice: `/dev/m${i}`, spareDevice: `/dev/s${i}` }),
    ),
  );
  t.deepEqual(
    named.diagnostics.map((d) => d.message),
    [
      "device name 'data0' is also declared at b.yaml:4:9, c.yaml:4:9, d.yaml:4:9 and 2 more places",
      "device name 'data0' is also declared at a.yaml:4:9, c.yaml:4:9, d.yaml:4:9 and 2 more places",
      "device name 'data0' is also declared at a.yaml:4:9, b.yaml:4:9, d.yaml:4:9 and 2 more places",
      "device name 'data0' is also declared at a.yaml:4:9, b.yaml:4:9, c.yaml:4:9 and 2 more places",
      "device name 'data0' is also declared at a.yaml:4:9, b.yaml:4:9, c.yaml:4:9 and 2 more places",
      "device name 'data0' is also declared at a.yaml:4:9, b.yaml:4:9, c.yaml:4:9 and 2 more places",
    ],
  );
});

test('a conflict among four names all three others', (t) => {
  const result = checkAcrossSpecs(
    ['a', 'b', 'c', 'd'].map((f) =>
      document(`${f}.yaml`, 1, { name: 'x', mainDevice: `/dev/m${f}`, spareDevice: `/dev/s${f}` }),
    ),
  );
  t.is(
    result.diagnostics[0]?.message,
    "device name 'x' is also declared at b.yaml:4:9, c.yaml:4:9, d.yaml:4:9",
  );
});
