/** The small pure rules: names, paths, file names, permissions, decoding, suggestions, formatting. */
import test from 'ava';
import fc from 'fast-check';
import { decodeSpecBytes } from '../../reconciler/spec/decode.js';
import {
  deviceNameProblem,
  devicePathProblem,
  isUnstableDevicePath,
} from '../../reconciler/spec/device-names.js';
import { classifyEntryName } from '../../reconciler/spec/file-names.js';
import { formatDiagnostic } from '../../reconciler/spec/index.js';
import { insecureAncestorProblem, insecurePermissionProblem } from '../../reconciler/spec/permissions.js';
import { schemaValidator } from '../../reconciler/spec/schema.js';
import { editDistance, nearestName } from '../../reconciler/spec/suggest.js';
import { LEFTOVER_NAMES } from '../helpers/specs.js';

test('device names are limited to A-Z a-z 0-9 + _ . -, and each refusal says why', (t) => {
  for (const good of [
    'data0',
    'vg0-lv_home',
    'a+b',
    'x.y',
    'data.',
    'Control',
    'controls',
    'n'.repeat(120),
  ]) {
    t.is(deviceNameProblem(good), undefined, good);
  }
  const allowed = 'only A-Z a-z 0-9 + _ . - are allowed';
  t.is(deviceNameProblem(''), 'must not be empty');
  t.is(deviceNameProblem('..'), `must not be '.' or '..'`);
  t.is(deviceNameProblem('.'), `must not be '.' or '..'`);
  t.is(
    deviceNameProblem('control'),
    "must not be 'control' (the kernel refuses it: /dev/mapper/control is device-mapper's own node)",
  );
  t.is(deviceNameProblem('-data0'), "must not start with '-' (dmsetup would read it as an option)");
  t.is(deviceNameProblem('-'), "must not start with '-' (dmsetup would read it as an option)");
  t.is(deviceNameProblem('a/b'), `contains '/' (U+002F); ${allowed}`);
  t.is(deviceNameProblem('data 0'), `contains U+0020 SPACE; ${allowed}`);
  t.is(deviceNameProblem('a\tb'), `contains U+0009 CHARACTER TABULATION; ${allowed}`);
  t.is(deviceNameProblem('a\x7fb'), `contains U+007F DELETE; ${allowed}`);
  t.is(deviceNameProblem('data\u200b0'), `contains U+200B ZERO WIDTH SPACE; ${allowed}`);
  t.is(deviceNameProblem('\ufeffdata0'), `contains U+FEFF ZERO WIDTH NO-BREAK SPACE; ${allowed}`);
  t.is(deviceNameProblem('data0\u00a0'), `contains U+00A0 NO-BREAK SPACE; ${allowed}`);
  t.is(deviceNameProblem('data\u0085'), `contains U+0085 (a control character); ${allowed}`);
  t.is(deviceNameProblem('caf\u00e9'), `contains 'é' (U+00E9); ${allowed}`);
  t.is(deviceNameProblem('a\u{1f4be}'), `contains '\u{1f4be}' (U+1F4BE); ${allowed}`);
  t.is(
    deviceNameProblem('a b\u200bc d:e;f'),
    `contains U+0020 SPACE, U+200B ZERO WIDTH SPACE, ':' (U+003A) and 1 more; ${allowed}`,
  );
  t.is(deviceNameProblem('é'.repeat(60)), `contains 'é' (U+00E9); ${allowed}`);
  t.is(
    deviceNameProblem('n'.repeat(121)),
    'is 121 bytes long; the limit is 120 bytes so that the dm UUID DMREMAP-<name> fits in 128 bytes',
  );
});

/** Whether the schema accepts a document whose only variable part is `name`. */
function schemaAcceptsName(name: string): boolean {
  const validate = schemaValidator();
  return validate({
    apiVersion: 'dm-remap/v1alpha1',
    kind: 'RemapDevice',
    metadata: { name },
    spec: { mainDevice: '/dev/disk/by-id/m', spareDevice: '/dev/disk/by-id/s' },
  });
}

/** Pieces that sit on either side of each name rule, joined at random. */
const NAME_PIECES = ['-', '.', '/', ' ', '+', '_', 'a', 'Z', '0', '\t', '\n', '\u007f', '\u0085', '\u00a0'];

test('the schema and deviceNameProblem accept exactly the same names', (t) => {
  const names = fc.oneof(
    fc
      .array(fc.constantFrom(...NAME_PIECES, '\u200b', '\ufeff', 'é', 'control', '..'), { maxLength: 8 })
      .map((parts) => parts.join('')),
    fc.stringMatching(/^[A-Za-z0-9+_.-]{115,125}$/),
    fc.string({ unit: 'grapheme', maxLength: 10 }),
  );
  fc.assert(
    fc.property(names, (name) => schemaAcceptsName(name) === (deviceNameProblem(name) === undefined)),
    { numRuns: 3000 },
  );
  for (const name of ['control', '-', '.', '..', 'a b', 'data\u200b0', 'n'.repeat(121)]) {
    t.false(schemaAcceptsName(name), name);
  }
  t.true(schemaAcceptsName('n'.repeat(120)));
});

test('device paths must be absolute, free of control characters and without a trailing slash', (t) => {
  for (const good of [
    '/dev/disk/by-id/ata-X',
    '/dev/mapper/vg-lv',
    '/run/disks/my disk',
    '/dev/disk/../disk/x',
  ]) {
    t.is(devicePathProblem(good), undefined, good);
  }
  t.is(devicePathProblem(''), 'must be an absolute path such as /dev/disk/by-id/...');
  t.is(devicePathProblem('dev/sda'), 'must be an absolute path such as /dev/disk/by-id/...');
  t.is(
    devicePathProblem('/dev/disk/by-id/ata-X\n'),
    'contains U+000A LINE FEED; a device path has no control characters',
  );
  t.is(
    devicePathProblem('/dev/disk/by-id/\x1b[2Jata-X\u0085'),
    'contains U+001B ESCAPE and U+0085 (a control character); a device path has no control characters',
  );
  t.is(
    devicePathProblem('/dev/disk/../disk/by-id/ata-X/'),
    "must not end with '/' (a device is not a directory; write /dev/disk/../disk/by-id/ata-X)",
  );
  t.is(
    devicePathProblem('/dev/sdb//'),
    "must not end with '/' (a device is not a directory; write /dev/sdb)",
  );
  t.is(devicePathProblem('/'), "must not end with '/' (a device is not a directory)");
});

/** Whether the schema accepts a document whose only variable part is `spareDevice`. */
function schemaAcceptsPath(devicePath: string): boolean {
  const validate = schemaValidator();
  return validate({
    apiVersion: 'dm-remap/v1alpha1',
    kind: 'RemapDevice',
    metadata: { name: 'data0' },
    spec: { mainDevice: '/dev/disk/by-id/m', spareDevice: devicePath },
  });
}

test('the schema and devicePathProblem accept exactly the same device paths', (t) => {
  const pieces = [
    '/',
    'dev',
    '.',
    'a',
    ' ',
    '\n',
    '\t',
    '\u0000',
    '\u007f',
    '\u0085',
    '\u009f',
    '\u00a0',
    '\u200b',
  ];
  const paths = fc.oneof(
    fc.array(fc.constantFrom(...pieces), { maxLength: 8 }).map((parts) => parts.join('')),
    fc.string({ unit: 'grapheme', maxLength: 10 }).map((rest) => `/${rest}`),
  );
  fc.assert(
    fc.property(
      paths,
      (devicePath) => schemaAcceptsPath(devicePath) === (devicePathProblem(devicePath) === undefined),
    ),
    { numRuns: 3000 },
  );
  for (const bad of ['/dev/x\n', '/dev/x/', '/', 'dev/x'])
    t.false(schemaAcceptsPath(bad), JSON.stringify(bad));
  t.true(schemaAcceptsPath('/dev/x'));
});

test('kernel probe-order device paths are recognised, stable links are not', (t) => {
  for (const unstable of [
    '/dev/sda',
    '/dev/sdb1',
    '/dev/sdaa',
    '/dev/hdc',
    '/dev/vda2',
    '/dev/xvdb',
    '/dev/nvme0n1',
    '/dev/nvme1n2p3',
    '/dev/mmcblk0p1',
  ]) {
    t.true(isUnstableDevicePath(unstable), unstable);
  }
  for (const stable of [
    '/dev/disk/by-id/ata-X',
    '/dev/disk/by-uuid/1234',
    '/dev/mapper/vg-lv',
    '/dev/md0',
    '/dev/sda/x',
  ]) {
    t.false(isUnstableDevicePath(stable), stable);
  }
});

test('only *.yaml and *.yml are read; hidden files and leftovers are skipped', (t) => {
  const read = ['data.yaml', 'data.yml', 'a.b.yaml'];
  const skipped = [...LEFTOVER_NAMES, 'data.json'];
  for (const name of read) t.true(classifyEntryName(name).read, name);
  for (const name of skipped) t.false(classifyEntryName(name).read, name);
});

test('ownership and modes that let a non-root user change specs are named', (t) => {
  t.is(insecurePermissionProblem({ uid: 0, mode: 0o100644 }), undefined);
  t.is(insecurePermissionProblem({ uid: 0, mode: 0o40755 }), undefined);
  t.is(insecurePermissionProblem({ uid: 0, mode: 0o100666 }), 'is writable by group and others (mode 0666)');
  t.is(insecurePermissionProblem({ uid: 0, mode: 0o100664 }), 'is writable by group (mode 0664)');
  t.is(
    insecurePermissionProblem({ uid: 1000, mode: 0o100646 }),
    'is owned by uid 1000, not root and is writable by others (mode 0646)',
  );
});

test('a directory above the specs may be world-writable only if root owns it and it is sticky, like /tmp', (t) => {
  t.is(insecureAncestorProblem({ uid: 0, mode: 0o40755 }), undefined);
  t.is(insecureAncestorProblem({ uid: 0, mode: 0o41777 }), undefined);
  t.is(insecureAncestorProblem({ uid: 0, mode: 0o41775 }), undefined);
  t.is(insecureAncestorProblem({ uid: 0, mode: 0o40777 }), 'is writable by group and others (mode 0777)');
  t.is(insecureAncestorProblem({ uid: 0, mode: 0o40775 }), 'is writable by group (mode 0775)');
  t.is(
    insecureAncestorProblem({ uid: 1000, mode: 0o41777 }),
    'is owned by uid 1000, not root and is writable by group and others (mode 01777)',
  );
  t.is(insecureAncestorProblem({ uid: 1000, mode: 0o40755 }), 'is owned by uid 1000, not root (mode 0755)');
});

test('binary junk and invalid UTF-8 are reported at the first bad byte', (t) => {
  const nul = decodeSpecBytes('f.yaml', Buffer.from('a: 1\nbb: x\0y\n'));
  t.like(nul.diagnostic, { code: 'binary-content', line: 2, column: 6 });
  const latin1 = decodeSpecBytes(
    'f.yaml',
    Buffer.from([0x61, 0x3a, 0x20, 0xc3, 0xa9, 0x0a, 0x62, 0x3a, 0x20, 0xe9, 0x0a]),
  );
  t.like(latin1.diagnostic, {
    code: 'invalid-utf8',
    line: 2,
    column: 4,
    message: 'file is not valid UTF-8 (byte 0xE9 at offset 9); save it as UTF-8',
  });
  const truncated = decodeSpecBytes('f.yaml', Buffer.from([0x61, 0xe2, 0x82]));
  t.like(truncated.diagnostic, { code: 'invalid-utf8', line: 1, column: 2 });
  t.is(decodeSpecBytes('f.yaml', Buffer.from('\ufeffa: é\n')).text, 'a: é\n');
});

test('misspelt field names get the nearest valid one, unrelated words get none', (t) => {
  const fields = ['mainDevice', 'spareDevice', 'blockSize', 'readRetries', 'state', 'paused'];
  t.is(nearestName('spareDevce', fields), 'spareDevice');
  t.is(nearestName('blocksize', fields), 'blockSize');
  t.is(nearestName('readRetires', fields), 'readRetries');
  t.is(nearestName('colour', fields), undefined);
  t.is(editDistance('ab', 'ba'), 1);
  t.is(editDistance('', 'abc'), 3);
});

test('diagnostics print like a compiler', (t) => {
  t.is(
    formatDiagnostic({ severity: 'error', code: 'x', message: 'bad', file: 'a.yaml', line: 4, column: 3 }),
    'a.yaml:4:3: error: bad',
  );
  t.is(
    formatDiagnostic({ severity: 'warning', code: 'x', message: 'hmm', file: 'dir' }),
    'dir: warning: hmm',
  );
});
