/**
 * `dm-remap boot-tables`: which dm-remap devices the root and /usr sit on
 * (followed down a sysfs of the test's own, from a mountinfo of its own),
 * their live tables with stable paths in place of device numbers, and every
 * reason to refuse.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { CliWorld } from '../controller/cliHarness.js';
import { simulatedKernelFrom } from '../../reconciler/controller/simStateFile.js';
import { mainIdentityOf } from '../controller/builders.js';

/** A sysfs tree: devices under devices/, reached by number through dev/block/M:m links, as the kernel's. */
class FakeSysfs {
  constructor(readonly root: string) {}

  /** A block device at devices/DIR; a dm device when `dm` is given; built on `slaves` (their DIRs). */
  async add(
    dir: string,
    majorMinor: string,
    extra: { dm?: { name: string; uuid: string }; slaves?: string[]; partition?: boolean } = {},
  ): Promise<void> {
    const node = path.join(this.root, 'devices', dir);
    await fs.mkdir(node, { recursive: true });
    await fs.writeFile(path.join(node, 'dev'), `${majorMinor}\n`);
    if (extra.dm) {
      await fs.mkdir(path.join(node, 'dm'));
      await fs.writeFile(path.join(node, 'dm/name'), `${extra.dm.name}\n`);
      await fs.writeFile(path.join(node, 'dm/uuid'), `${extra.dm.uuid}\n`);
    }
    await fs.mkdir(path.join(node, 'slaves'), { recursive: true });
    for (const slave of extra.slaves ?? []) {
      await fs.symlink(
        path.join(this.root, 'devices', slave),
        path.join(node, 'slaves', path.basename(slave)),
      );
    }
    if (extra.partition) await fs.writeFile(path.join(node, 'partition'), '1\n');
    await fs.mkdir(path.join(this.root, 'dev/block'), { recursive: true });
    await fs.symlink(node, path.join(this.root, 'dev/block', majorMinor));
  }
}

/** A mountinfo line for `mountPoint` on device `majorMinor`. */
function mountLine(
  id: number,
  majorMinor: string,
  mountPoint: string,
  source: string,
  fsType = 'ext4',
): string {
  return `${id} 1 ${majorMinor} / ${mountPoint} rw,relatime shared:${id} - ${fsType} ${source} rw`;
}

/**
 * An applied, owned device `root` on root-main (8:0) and root-spare (8:16),
 * a sysfs with the disks and the device, and a boot-tables runner over a
 * mountinfo the test writes.
 */
/** `dm-remap boot-tables ARGS...` over the world's specs and simulated kernel, this sysfs and mount table. */
function bootTablesIn(world: CliWorld, sysfsRoot: string, mountinfo: string) {
  return (...args: string[]) =>
    world.cli(
      'boot-tables',
      ...args,
      '--config-dir',
      world.configDir,
      '--kernel',
      `sim:${world.simFile}`,
      '--sysfs-root',
      sysfsRoot,
      '--mountinfo',
      mountinfo,
    );
}

async function rootWorld(t: ExecutionContext, extraSpecFields: string[] = []) {
  const world = await CliWorld.create(t, ['root']);
  await world.writeSpec('root', extraSpecFields);
  const applied = await world.cli('apply', ...world.kernelArgs);
  t.is(applied.status, 0, applied.stdout + applied.stderr);
  const observed = await (await simulatedKernelFrom(await world.kernel())).observe();
  const numberOf = (name: string) => {
    const device = observed.devices.find((candidate) => candidate.name === name)!;
    return `${device.major}:${device.minor}`;
  };
  const rootNumber = numberOf('root');
  const sys = new FakeSysfs(path.join(world.dir, 'sys'));
  await sys.add('pci/block/sda', '8:0');
  await sys.add('pci/block/sdb', '8:16');
  await sys.add('virtual/block/dm-root', rootNumber, {
    dm: { name: 'root', uuid: 'DMREMAP-root' },
    slaves: ['pci/block/sda', 'pci/block/sdb'],
  });
  await sys.add('pci/block/sdc', '8:32');
  await sys.add('pci/block/sdc/sdc1', '8:33', { partition: true });
  const mountinfo = path.join(world.dir, 'mountinfo');
  await fs.writeFile(mountinfo, mountLine(20, rootNumber, '/', '/dev/mapper/root') + '\n');
  const bootTables = bootTablesIn(world, sys.root, mountinfo);
  const liveTable = (await world.device('root'))!.table!;
  return { world, sys, mountinfo, numberOf, rootNumber, liveTable, bootTables };
}

const ROOT_TABLE =
  '0 65536 remap /dev/disk/by-id/root-main /dev/disk/by-id/root-spare 6 block_size 8 read_retries 3 ' +
  `main_id ${mainIdentityOf('root')}`;

test('boot-tables lists the device the root filesystem is on, its live table with stable paths', async (t) => {
  const { bootTables, liveTable } = await rootWorld(t);
  t.is(liveTable, `0 65536 remap 8:0 8:16 6 block_size 8 read_retries 3 main_id ${mainIdentityOf('root')}`);
  // /usr is not a mount of its own here: skipped.
  const run = await bootTables();
  t.is(run.status, 0, run.stderr);
  t.is(run.stdout, `root DMREMAP-root ${ROOT_TABLE}\n`);
  t.is(run.stderr, '');
});

test('boot-tables -o json says which mount each device is under and what the live table is', async (t) => {
  const { bootTables, rootNumber, liveTable } = await rootWorld(t);
  const run = await bootTables('--output', 'json', '--mount', '/', '--mount', '/usr/');
  t.is(run.status, 0, run.stderr);
  t.deepEqual(JSON.parse(run.stdout), {
    devices: [
      {
        name: 'root',
        uuid: 'DMREMAP-root',
        table: ROOT_TABLE,
        liveTable,
        mainDevice: '/dev/disk/by-id/root-main',
        spareDevice: '/dev/disk/by-id/root-spare',
        mounts: ['/'],
      },
    ],
    mounts: [
      { mountPoint: '/', state: 'found', majorMinor: rootNumber, fsType: 'ext4', source: '/dev/mapper/root' },
      { mountPoint: '/usr/', state: 'notAMount' },
    ],
  });
});

test('boot-tables follows stacked devices and partitions down, lists each device once, nothing for plain disks', async (t) => {
  const { bootTables, sys, mountinfo, numberOf } = await rootWorld(t);
  // / on LVM (the world's vg-root) over the remap device; /usr on a partition of an md array over it
  // too; /srv on a partition of a plain disk.
  await sys.add('virtual/block/dm-lvm', numberOf('vg-root'), {
    dm: { name: 'vg-root', uuid: 'LVM-root' },
    slaves: ['virtual/block/dm-root'],
  });
  await sys.add('virtual/block/md0', '9:0', { slaves: ['virtual/block/dm-root'] });
  await sys.add('virtual/block/md0/md0p1', '259:1', { partition: true });
  await fs.writeFile(
    mountinfo,
    [
      mountLine(20, numberOf('vg-root'), '/', '/dev/mapper/vg-root'),
      mountLine(21, '259:1', '/usr', '/dev/md0p1'),
      mountLine(22, '8:33', '/srv', '/dev/sdc1'),
      mountLine(23, '0:40', '/tmp', 'tmpfs', 'tmpfs'),
      '',
    ].join('\n'),
  );
  const both = await bootTables('-o', 'json');
  t.is(both.status, 0, both.stderr);
  const listed = JSON.parse(both.stdout) as { devices: { name: string; mounts: string[] }[] };
  t.deepEqual(
    listed.devices.map((device) => [device.name, device.mounts]),
    [['root', ['/', '/usr']]],
  );
  const plain = await bootTables('--mount', '/srv');
  t.is(plain.status, 0, plain.stderr);
  t.is(plain.stdout, '');
  // A filesystem on no block device cannot be followed: said, not refused.
  const tmpfs = await bootTables('--mount', '/tmp');
  t.is(tmpfs.status, 0);
  t.is(tmpfs.stdout, '');
  t.regex(tmpfs.stderr, /warning: \/tmp is tmpfs on tmpfs, not on a block device/);
});

test('boot-tables finds a btrfs root, whose mountinfo number is anonymous, through its source', async (t) => {
  const { bootTables, mountinfo, world, rootNumber } = await rootWorld(t);
  const state = await world.kernel();
  state.blockDevices.push({
    path: '/dev/mapper/root',
    sizeSectors: 65_536,
    major: 253,
    minor: Number(rootNumber.split(':')[1]),
  });
  await world.writeKernel(state);
  await fs.writeFile(mountinfo, mountLine(20, '0:31', '/', '/dev/mapper/root', 'btrfs') + '\n');
  const run = await bootTables();
  t.is(run.status, 0, run.stderr);
  t.is(run.stdout, `root DMREMAP-root ${ROOT_TABLE}\n`);
});

test('boot-tables names the disks by the applied record first: the spec may name a spare not applied yet', async (t) => {
  const { bootTables, world } = await rootWorld(t);
  await world.writeSpec('root', ['spareDevice: /dev/disk/by-id/new-spare']);
  const run = await bootTables();
  t.is(run.status, 0, run.stderr);
  t.is(run.stdout, `root DMREMAP-root ${ROOT_TABLE}\n`);
  // With no record, the spec is what names them, and its new spare is not what the device runs on.
  await fs.rm(`${world.simFile}.state`, { recursive: true });
  const specOnly = await bootTables();
  t.is(specOnly.status, 1);
  t.is(specOnly.stdout, '');
  t.regex(
    specOnly.stderr,
    /^dm-remap: boot-tables: refused: root: no stable path to its spare device 8:16: \/dev\/disk\/by-id\/new-spare \(from .*root\.yaml\) does not exist\n$/,
  );
});

test('boot-tables refuses a path that now resolves to another disk than the live table uses', async (t) => {
  const { bootTables, world } = await rootWorld(t);
  const state = await world.kernel();
  // The spare's link now points at another disk (8:48); 8:16 is still there under another name.
  for (const device of state.blockDevices) {
    if (device.path === '/dev/disk/by-id/root-spare') device.path = '/dev/disk/by-id/moved';
  }
  state.blockDevices.push({ path: '/dev/disk/by-id/root-spare', sizeSectors: 8_192, major: 8, minor: 48 });
  await world.writeKernel(state);
  const run = await bootTables();
  t.is(run.status, 1);
  t.is(run.stdout, '');
  t.regex(
    run.stderr,
    /refused: root: no stable path to its spare device 8:16: \/dev\/disk\/by-id\/root-spare \(from its record in .*\) resolves to 8:48, not to the 8:16 the live table uses/,
  );
});

test('boot-tables refuses kernel names, paths outside /dev and paths the boot script cannot pass on', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['/dev/sdb', 'sdb', /\/dev\/sdb \(from .*\) is a kernel name that can name another disk after a reboot/],
    [
      '/run/disks/spare',
      'run',
      /\/run\/disks\/spare \(from .*\) is not under \/dev, where the initramfs finds disks/,
    ],
    [
      '/dev/disk/by-label/my\\x20spare',
      'escape',
      /by-label\/my\\x20spare \(from .*\) has characters the boot script cannot pass on safely/,
    ],
  ];
  for (const [spare, label, refusal] of cases) {
    const world = await CliWorld.create(t, ['root']);
    const state = await world.kernel();
    state.blockDevices.find((device) => device.path === '/dev/disk/by-id/root-spare')!.path = spare;
    await world.writeKernel(state);
    await world.writeSpec('root', [`spareDevice: '${spare}'`]);
    const applied = await world.cli('apply', ...world.kernelArgs);
    t.is(applied.status, 0, label + applied.stdout + applied.stderr);
    const observed = await (await simulatedKernelFrom(await world.kernel())).observe();
    const root = observed.devices.find((device) => device.name === 'root')!;
    const sys = new FakeSysfs(path.join(world.dir, 'sys'));
    await sys.add('virtual/block/dm-root', `${root.major}:${root.minor}`, {
      dm: { name: 'root', uuid: 'DMREMAP-root' },
    });
    const mountinfo = path.join(world.dir, 'mountinfo');
    await fs.writeFile(
      mountinfo,
      mountLine(20, `${root.major}:${root.minor}`, '/', '/dev/mapper/root') + '\n',
    );
    const run = await bootTablesIn(world, sys.root, mountinfo)();
    t.is(run.status, 1, label);
    t.is(run.stdout, '', label);
    t.regex(run.stderr, refusal, label);
  }
});

test('boot-tables refuses a remap device dm-remap does not own', async (t) => {
  const { bootTables, world, sys, mountinfo, numberOf } = await rootWorld(t);
  const state = await world.kernel();
  state.devices.push({
    name: 'hand',
    uuid: '',
    table: '0 65536 remap 8:32 8:48 4 block_size 8 read_retries 2',
  });
  state.blockDevices.push(
    { path: '/dev/disk/by-id/hand-main', sizeSectors: 65_536, major: 8, minor: 32 },
    { path: '/dev/disk/by-id/hand-spare', sizeSectors: 8_192, major: 8, minor: 48 },
  );
  await world.writeKernel(state);
  const handNumber = (await (await simulatedKernelFrom(state)).observe()).devices.find(
    (d) => d.name === 'hand',
  )!;
  await sys.add('virtual/block/dm-hand', `${handNumber.major}:${handNumber.minor}`, {
    dm: { name: 'hand', uuid: '' },
  });
  await fs.writeFile(
    mountinfo,
    [
      mountLine(20, numberOf('root'), '/', '/dev/mapper/root'),
      mountLine(21, `${handNumber.major}:${handNumber.minor}`, '/usr', '/dev/mapper/hand'),
      '',
    ].join('\n'),
  );
  const notOwned = await bootTables();
  t.is(notOwned.status, 1);
  t.is(notOwned.stdout, '');
  t.is(
    notOwned.stderr,
    'dm-remap: boot-tables: refused: hand is a remap device dm-remap does not own (UUID ""): nothing would ' +
      'create it at boot; take it over with `dm-remap adopt hand` first\n',
  );
});

test('boot-tables refuses a path that no longer exists', async (t) => {
  const { bootTables, world } = await rootWorld(t);
  const state = await world.kernel();
  state.blockDevices.find((device) => device.path === '/dev/disk/by-id/root-main')!.path =
    '/dev/disk/by-id/renamed';
  await world.writeKernel(state);
  const run = await bootTables();
  t.is(run.status, 1);
  t.regex(
    run.stderr,
    /refused: root: no stable path to its main device 8:0: \/dev\/disk\/by-id\/root-main \(from its record in .*\) does not exist; \/dev\/disk\/by-id\/root-main \(from .*root\.yaml\) does not exist\n$/,
  );
});

test('boot-tables refuses a device no spec or record names', async (t) => {
  const { bootTables, world } = await rootWorld(t);
  // Neither a spec nor a record: nothing says which stable paths name its disks.
  await fs.rm(path.join(world.configDir, 'root.yaml'));
  await fs.rm(`${world.simFile}.state`, { recursive: true });
  const unnamed = await bootTables();
  t.is(unnamed.status, 1);
  t.regex(unnamed.stderr, /refused: root: neither a spec in .* nor a record in .* names its disks/);
});

test('boot-tables says in one line that it cannot read the mount table (a chroot without /proc)', async (t) => {
  const { world } = await rootWorld(t);
  const missing = path.join(world.dir, 'no-proc/mountinfo');
  const run = await world.cli('boot-tables', '--kernel', `sim:${world.simFile}`, '--mountinfo', missing);
  t.is(run.status, 69);
  t.is(run.stdout, '');
  t.regex(run.stderr, /^dm-remap: boot-tables: cannot read the mount table .*no-proc\/mountinfo: ENOENT/);
});
