/** Block device inspection with an injected filesystem: device numbers, sysfs size, missing paths. */
import test from 'ava';

import { KernelError } from '../../reconciler/kernel/adapter.js';
import { inspectBlockDevice, splitDeviceNumber } from '../../reconciler/kernel/block-device.js';
import type { BlockDeviceFs } from '../../reconciler/kernel/block-device.js';

/** makedev() as glibc defines it, to build the numbers the tests decode. */
function makedev(major: number, minor: number): bigint {
  const [M, m] = [BigInt(major), BigInt(minor)];
  return ((M & 0xfffn) << 8n) | ((M & ~0xfffn) << 32n) | (m & 0xffn) | ((m & ~0xffn) << 12n);
}

test('device numbers split like glibc major()/minor(), including large minors', (t) => {
  for (const [major, minor] of [
    [7, 0],
    [8, 16],
    [253, 3],
    [259, 1048575],
    [4095, 255],
  ] as const) {
    t.deepEqual(splitDeviceNumber(makedev(major, minor)), { major, minor });
  }
});

function fakeFs(files: Record<string, string>, devices: Record<string, bigint | 'file'>): BlockDeviceFs {
  return {
    stat(path) {
      const device = devices[path];
      if (device === undefined) {
        return Promise.reject(Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' }));
      }
      return Promise.resolve({
        isBlockDevice: () => device !== 'file',
        rdev: device === 'file' ? 0n : device,
      });
    },
    readFile(path) {
      const content = files[path];
      return content === undefined ? Promise.reject(new Error(`ENOENT: ${path}`)) : Promise.resolve(content);
    },
    realpath(path) {
      return Promise.resolve(path);
    },
    readdir(path) {
      const prefix = `${path}/`;
      const names = Object.keys(files)
        .filter((file) => file.startsWith(prefix))
        .map((file) => file.slice(prefix.length).split('/')[0] ?? '');
      return Promise.resolve([...new Set(names)]);
    },
  };
}

test('a block device reports major:minor and its sysfs size in sectors', async (t) => {
  const fs = fakeFs({ '/sys/dev/block/259:1/size': '2097152\n' }, { '/dev/disk/by-id/x': makedev(259, 1) });
  t.deepEqual(await inspectBlockDevice('/dev/disk/by-id/x', undefined, fs), {
    path: '/dev/disk/by-id/x',
    majorMinor: '259:1',
    sizeSectors: 2097152,
  });
});

test('a disk with a stable identity in sysfs reports it, with the main_id made from it', async (t) => {
  const fs = fakeFs(
    { '/sys/dev/block/259:1/size': '2097152\n', '/sys/dev/block/259:1/wwid': 'eui.0025388b11b1d1e4\n' },
    { '/dev/disk/by-id/x': makedev(259, 1) },
  );
  t.deepEqual((await inspectBlockDevice('/dev/disk/by-id/x', undefined, fs))?.identity, {
    source: '/sys/dev/block/259:1/wwid',
    value: 'eui.0025388b11b1d1e4',
    mainId: 'eui.0025388b11b1d1e4',
  });
});

test('a missing path is undefined, a regular file is ENOTBLK', async (t) => {
  const fs = fakeFs({}, { '/srv/image': 'file' });
  t.is(await inspectBlockDevice('/dev/nope', undefined, fs), undefined);
  const error = await t.throwsAsync(inspectBlockDevice('/srv/image', undefined, fs), {
    instanceOf: KernelError,
  });
  t.is(error.code, 'ENOTBLK');
});

test('an aborted signal stops before touching the filesystem', async (t) => {
  const fs = fakeFs({}, {});
  const error = await t.throwsAsync(inspectBlockDevice('/dev/vda', AbortSignal.abort(), fs), {
    instanceOf: KernelError,
  });
  t.is(error.code, 'ECANCELED');
});
