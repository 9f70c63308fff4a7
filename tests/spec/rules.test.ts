/** The small pure rules: names, paths, file names, permissions, decoding, suggestions, formatting. */
import test from 'ava';
import { decodeSpecBytes } from '../../reconciler/spec/decode.js';
import { deviceNameProblem, isUnstableDevicePath } from '../../reconciler/spec/device-names.js';
import { classifyEntryName } from '../../reconciler/spec/file-names.js';
import { formatDiagnostic } from '../../reconciler/spec/index.js';
import { insecurePermissionProblem } from '../../reconciler/spec/permissions.js';
import { editDistance, nearestName } from '../../reconciler/spec/suggest.js';
import { LEFTOVER_NAMES } from '../helpers/specs.js';

test('device names device-mapper would refuse are explained', (t) => {
  t.is(deviceNameProblem('data0'), undefined);
  t.is(deviceNameProblem(''), 'must not be empty');
  t.is(deviceNameProblem('..'), `must not be '.' or '..'`);
  t.is(deviceNameProblem('.'), `must not be '.' or '..'`);
  t.is(deviceNameProblem('a/b'), `must not contain '/'`);
  t.is(deviceNameProblem('a\tb'), 'must not contain control characters (found U+0009)');
  t.is(deviceNameProblem('a\x7fb'), 'must not contain control characters (found U+007F)');
  t.is(deviceNameProblem('é'.repeat(60)), undefined);
  t.regex(deviceNameProblem('é'.repeat(61)) ?? '', /^is 122 bytes long; the limit is 120 bytes/);
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
