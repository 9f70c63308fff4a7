/**
 * Disk identities: the mapping to a main_id (properties over arbitrary
 * strings, and the documented examples), and resolution from a fake sysfs
 * tree laid out as Linux lays it out (/sys/dev/block/M:m symlinks into
 * /sys/devices/..., partitions one directory below their disk).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import fc from 'fast-check';

import { mainIdOf, resolveDiskIdentity } from '../../reconciler/kernel/disk-identity.js';
import { formatRemapTable, parseRemapTable, parseTableLine } from '../../reconciler/kernel/table.js';

const FORM = /^(?:[A-Za-z0-9._-]{1,63}|[A-Za-z0-9._-]{0,46}\+[0-9a-f]{16})$/;

test('an identity of 1 to 63 characters of [A-Za-z0-9._-] is its own main_id', (t) => {
  for (const identity of [
    'naa.5000c500a1b2c3d4',
    'eui.0025388b11b1d1e4',
    'virtio-main',
    'dm-uuid-LVM-abc',
    'md-uuid-6a8f5e2c-1d3b-4c5a-9e7f-0a1b2c3d4e5f-part2',
    'x'.repeat(63),
  ]) {
    t.is(mainIdOf(identity), identity);
  }
});

test('an identity with spaces or other characters, or too long, takes the hashed form', (t) => {
  // libata's T10 designator: vendor, model and serial padded with spaces. The digits are
  // `printf '%s' "$identity" | sha256sum | cut -c1-16`: anyone can recompute a main_id.
  const ata = 't10.ATA     WDC WD40EFRX-68N32N0                    WD-WCC7K0AAAAAA';
  t.is(mainIdOf(ata), 't10.ATA_WDC_WD40EFRX-68N32N0_WD-WCC7K0AAAAAA+158edede7db5b4a5');
  t.regex(mainIdOf('x'.repeat(64)), /^x{46}\+[0-9a-f]{16}$/);
  t.regex(mainIdOf('ünïcode'), /^_n_code\+[0-9a-f]{16}$/);
  t.throws(() => mainIdOf(''), { instanceOf: RangeError });
});

test('every main_id is 1 to 63 characters without whitespace, in the exact or the hashed form', (t) => {
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 200, unit: 'grapheme' }), (identity) => {
      const id = mainIdOf(identity);
      return (
        id.length >= 1 && id.length <= 63 && !/\s/.test(id) && FORM.test(id) && mainIdOf(identity) === id
      );
    }),
  );
  t.pass();
});

test('distinct identities get distinct main_ids', (t) => {
  fc.assert(
    fc.property(
      fc.string({ minLength: 1, maxLength: 80 }),
      fc.string({ minLength: 1, maxLength: 80 }),
      (a, b) => {
        fc.pre(a !== b);
        return mainIdOf(a) !== mainIdOf(b);
      },
    ),
  );
  // Two names a sanitizer alone would merge: the hash keeps them apart.
  t.not(mainIdOf('serial a'), mainIdOf('serial_a'));
  t.not(mainIdOf('serial a'), mainIdOf('serial\ta'));
});

test('a main_id survives a table line: formatted, split on whitespace and parsed back', (t) => {
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 120, unit: 'binary' }), (identity) => {
      const mainId = mainIdOf(identity);
      const line = formatRemapTable({
        startSector: 0,
        lengthSectors: 8,
        mainDevice: '8:0',
        spareDevice: '8:16',
        blockSizeSectors: 8,
        readRetries: 3,
        mainId,
      });
      return parseRemapTable(parseTableLine(line)).mainId === mainId && !/[,;\\]/.test(mainId);
    }),
  );
  t.pass();
});

/** A fake sysfs: `disks` maps "M:m" to a device directory and its attribute files. */
async function fakeSysfs(
  t: ExecutionContext,
  disks: Record<string, { dir: string; files: Record<string, string> }>,
): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'dm-remap-sysfs-'));
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));
  await fs.mkdir(path.join(root, 'dev/block'), { recursive: true });
  for (const [majorMinor, { dir, files }] of Object.entries(disks)) {
    const directory = path.join(root, dir);
    await fs.mkdir(directory, { recursive: true });
    for (const [name, content] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(directory, name)), { recursive: true });
      await fs.writeFile(path.join(directory, name), content);
    }
    await fs.symlink(path.join('../..', dir), path.join(root, 'dev/block', majorMinor));
  }
  return root;
}

const SDA = 'devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda';

test('identities are read from the attribute each kind of disk has, in order of preference', async (t) => {
  const root = await fakeSysfs(t, {
    '8:0': { dir: SDA, files: { 'device/wwid': 'naa.5000c500a1b2c3d4\n', 'device/serial': 'ignored\n' } },
    '8:1': { dir: `${SDA}/sda1`, files: { partition: '1\n' } },
    '259:0': { dir: 'devices/virtual/nvme/nvme0/nvme0n1', files: { wwid: 'eui.0025388b11b1d1e4\n' } },
    '254:0': { dir: 'devices/pci0000:00/virtio1/block/vda', files: { serial: 'disk-7\n' } },
    '254:16': { dir: 'devices/pci0000:00/virtio2/block/vdb', files: { serial: '' } },
    '253:0': { dir: 'devices/virtual/block/dm-0', files: { 'dm/uuid': 'LVM-abc\n', 'dm/name': 'vg-lv\n' } },
    '253:1': { dir: 'devices/virtual/block/dm-1', files: { 'dm/uuid': '\n' } },
    '9:0': {
      dir: 'devices/virtual/block/md0',
      files: { 'md/uuid': '6a8f5e2c-1d3b-4c5a-9e7f-0a1b2c3d4e5f\n' },
    },
    '9:1': {
      dir: 'devices/virtual/block/md1',
      files: { 'md/uuid': '00000000-0000-0000-0000-000000000000\n' },
    },
    '179:0': {
      dir: 'devices/platform/mmc0/mmc0:0001/block/mmcblk0',
      files: { 'device/serial': '0x1234abcd\n' },
    },
    '7:0': { dir: 'devices/virtual/block/loop0', files: { 'loop/backing_file': '/srv/disk.img\n' } },
  });
  const valueOf = async (majorMinor: string) =>
    (await resolveDiskIdentity(majorMinor, undefined, undefined, root))?.value;
  t.is(await valueOf('8:0'), 'naa.5000c500a1b2c3d4');
  t.is(await valueOf('8:1'), 'naa.5000c500a1b2c3d4-part1');
  t.is(await valueOf('259:0'), 'eui.0025388b11b1d1e4');
  t.is(await valueOf('254:0'), 'virtio-disk-7');
  t.is(await valueOf('254:16'), undefined, 'qemu without serial= shows an empty serial');
  t.is(await valueOf('253:0'), 'dm-uuid-LVM-abc');
  t.is(await valueOf('253:1'), undefined, 'a dm device created without a uuid');
  t.is(await valueOf('9:0'), 'md-uuid-6a8f5e2c-1d3b-4c5a-9e7f-0a1b2c3d4e5f');
  t.is(await valueOf('9:1'), undefined, 'an md array not assembled yet');
  t.is(await valueOf('179:0'), 'serial-0x1234abcd');
  t.is(await valueOf('7:0'), undefined);
  t.is(await valueOf('8:99'), undefined, 'no such device');
});

test('the identity names where it was read and carries its main_id', async (t) => {
  const root = await fakeSysfs(t, {
    '8:0': {
      dir: SDA,
      files: { 'device/wwid': 't10.ATA     QEMU HARDDISK                           QM00001\n' },
    },
    '8:3': { dir: `${SDA}/sda3`, files: { partition: '3\n' } },
  });
  const identity = await resolveDiskIdentity('8:3', undefined, undefined, root);
  t.deepEqual(identity, {
    source: `${root}/dev/block/8:0/device/wwid + ${root}/dev/block/8:3/partition`.replace(
      `${root}/dev/block/8:0`,
      path.join(root, SDA),
    ),
    value: 't10.ATA     QEMU HARDDISK                           QM00001-part3',
    mainId: mainIdOf('t10.ATA     QEMU HARDDISK                           QM00001-part3'),
  });
  t.regex(identity?.mainId ?? '', /^t10\.ATA_QEMU_HARDDISK_QM00001-part3\+[0-9a-f]{16}$/);
});

test('an unreadable attribute (a SCSI disk without VPD page 0x83) falls through to none, never an error', async (t) => {
  const refusing = {
    readFile: (file: string) =>
      file.endsWith('/device/wwid')
        ? Promise.reject(Object.assign(new Error('ENXIO'), { code: 'ENXIO' }))
        : Promise.reject(Object.assign(new Error('ENOENT'), { code: 'ENOENT' })),
    realpath: (file: string) => Promise.resolve(file),
    readdir: () => Promise.resolve(['device', 'size']),
  };
  t.is(await resolveDiskIdentity('8:0', undefined, refusing), undefined);
});

test('only the attributes the device directory lists are read: none for a loop device', async (t) => {
  // Every device is looked up on every pass; a failed open per absent
  // attribute (seven for a loop device) was the largest part of a steady
  // apply's own time in the guest.
  const listings: Record<string, string[]> = {
    '/sys/dev/block/7:0': ['size', 'loop', 'queue', 'ro'],
    '/sys/dev/block/252:0': ['size', 'serial', 'queue', 'ro'],
  };
  const read: string[] = [];
  const counting = {
    readFile: (file: string) => {
      read.push(file);
      return file === '/sys/dev/block/252:0/serial'
        ? Promise.resolve('dmr-main\n')
        : Promise.reject(Object.assign(new Error('ENOENT'), { code: 'ENOENT' }));
    },
    realpath: (file: string) => Promise.resolve(file),
    readdir: (directory: string) => Promise.resolve(listings[directory] ?? []),
  };
  t.is(await resolveDiskIdentity('7:0', undefined, counting), undefined);
  t.deepEqual(read, []);
  t.is((await resolveDiskIdentity('252:0', undefined, counting))?.value, 'virtio-dmr-main');
  t.deepEqual(read, ['/sys/dev/block/252:0/serial']);
});

test('an aborted signal stops before reading sysfs', async (t) => {
  await t.throwsAsync(resolveDiskIdentity('8:0', AbortSignal.abort()), { message: /abort|cancel/i });
});
