/**
 * DmsetupKernel against a scripted process runner: which processes it runs,
 * with which arguments, and how it attributes a failed batch. The real
 * kernel's answers are checked by the contract suite in the guest.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import test from 'ava';

import { KernelError } from '../../reconciler/kernel/adapter.js';
import type { Scheduler } from '../../reconciler/kernel/coalesce.js';
import { DmsetupKernel } from '../../reconciler/kernel/dmsetup.js';
import { INFO_ARGS, INFO_SEPARATOR } from '../../reconciler/kernel/dmsetup-parse.js';
import { ProcessFailure, runProcess } from '../../reconciler/kernel/process.js';
import type { ProcessOptions, ProcessRunner } from '../../reconciler/kernel/process.js';

interface Row {
  name: string;
  uuid: string;
  minor: number;
  attr?: string;
  open?: number;
}

function infoOutput(rows: readonly Row[]): string {
  if (rows.length === 0) return 'No devices found\n';
  return rows
    .map((row) =>
      [row.uuid, '253', row.minor, row.attr ?? 'L--w', row.open ?? 0, row.name].join(INFO_SEPARATOR),
    )
    .join('\n')
    .concat('\n');
}

function failure(args: readonly string[], stderr: string): ProcessFailure {
  return new ProcessFailure(`dmsetup ${args.join(' ')}: ${stderr}`, 'dmsetup', args, '', stderr, 1, 'exit');
}

/** A fake dmsetup: `answer` maps each invocation to stdout or a thrown failure; every call is recorded. */
function scriptedRunner(answer: (args: readonly string[], options: ProcessOptions) => string) {
  const calls: { file: string; args: readonly string[]; input?: string; env?: Record<string, string> }[] = [];
  const runner: ProcessRunner = (file, args, options) => {
    calls.push({
      file,
      args,
      ...(options.input === undefined ? {} : { input: options.input }),
      ...(options.env === undefined ? {} : { env: options.env }),
    });
    try {
      return Promise.resolve({ stdout: answer(args, options), stderr: '' });
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };
  return { runner, calls };
}

/** Fires a coalescing window immediately after the current tick, so concurrent calls still share it. */
const nextTick: Scheduler = (callback) => {
  const handle = setImmediate(callback);
  return () => clearImmediate(handle);
};

test('observe runs four processes whatever the number of devices, when sysfs cannot say the module is loaded', async (t) => {
  const rows: Row[] = Array.from({ length: 50 }, (_, index) => ({
    name: `d${index}`,
    uuid: `DMREMAP-d${index}`,
    minor: index,
  }));
  const { runner, calls } = scriptedRunner((args) => {
    if (args[0] === 'info') return infoOutput(rows);
    if (args[0] === 'table')
      return rows.map((row) => `${row.name},${row.uuid},${row.minor},rw,0 8 zero`).join(';');
    if (args[0] === 'status') return rows.map((row) => `${row.name}: 0 8 zero `).join('\n');
    if (args[0] === 'targets') return 'zero v1.0.0\nremap v1.0.0\n';
    throw new Error(`unexpected ${args.join(' ')}`);
  });
  // Without the module in sysfs (a module built in shows none), `dmsetup targets` says.
  const observation = await new DmsetupKernel({ runner, sysfsRoot: await fakeSysfs(t) }).observe();
  t.is(calls.length, 4);
  t.true(observation.moduleLoaded);
  t.is(observation.devices.length, 50);
  t.deepEqual(observation.devices[0]?.table, [
    { startSector: 0, lengthSectors: 8, targetType: 'zero', args: '' },
  ]);
});

/** A sysfs root in a temporary directory; `initstate` is what /sys/module/dm_remap/initstate holds (none: no such dir). */
async function fakeSysfs(t: import('ava').ExecutionContext, initstate?: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'dm-remap-sysfs-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  if (initstate !== undefined) {
    await mkdir(join(root, 'module', 'dm_remap'), { recursive: true });
    await writeFile(join(root, 'module', 'dm_remap', 'initstate'), `${initstate}\n`);
  }
  return root;
}

function listingRunner() {
  return scriptedRunner((args) => {
    if (args[0] === 'info') return infoOutput([{ name: 'd', uuid: 'DMREMAP-d', minor: 0 }]);
    if (args[0] === 'table') return 'd,DMREMAP-d,0,rw,0 8 zero';
    if (args[0] === 'status') return 'd: 0 8 zero \n';
    if (args[0] === 'targets') return 'zero v1.0.0\n';
    throw new Error(`unexpected ${args.join(' ')}`);
  });
}

test('a loaded module is read from sysfs: observe runs no `dmsetup targets`', async (t) => {
  const { runner, calls } = listingRunner();
  const kernel = new DmsetupKernel({ runner, sysfsRoot: await fakeSysfs(t, 'live') });
  const observation = await kernel.observe();
  t.true(observation.moduleLoaded);
  t.deepEqual(
    calls.map((call) => call.args[0]),
    ['info', 'table', 'status'],
  );
});

test('without the module in sysfs, or while it is still loading, `dmsetup targets` decides', async (t) => {
  for (const initstate of [undefined, 'coming']) {
    const { runner, calls } = listingRunner();
    const kernel = new DmsetupKernel({ runner, sysfsRoot: await fakeSysfs(t, initstate) });
    // This dmsetup lists no remap target: not loaded (or built in and absent), whatever sysfs lacks.
    t.false((await kernel.observe()).moduleLoaded, String(initstate));
    t.true(
      calls.some((call) => call.args[0] === 'targets'),
      String(initstate),
    );
  }
});

test('a mutation of a foreign device is refused after one listing and nothing else runs', async (t) => {
  const { runner, calls } = scriptedRunner((args) => {
    if (args[0] === 'info') return infoOutput([{ name: 'vg-root', uuid: 'LVM-abc', minor: 0 }]);
    throw new Error(`must not run ${args.join(' ')}`);
  });
  const kernel = new DmsetupKernel({ runner });
  const error = await t.throwsAsync(kernel.suspend('vg-root'), { instanceOf: KernelError });
  t.is(error.code, 'ENOTOWNED');
  t.deepEqual(
    calls.map((call) => call.args[0]),
    ['info'],
  );
});

test('single-device mutations address the device by its UUID, and load passes the table on stdin', async (t) => {
  const { runner, calls } = scriptedRunner((args) =>
    args[0] === 'info' ? infoOutput([{ name: 'disk0', uuid: 'DMREMAP-disk0', minor: 3 }]) : '',
  );
  const kernel = new DmsetupKernel({ runner });
  await kernel.load({ name: 'disk0', uuid: 'DMREMAP-disk0', table: '0 8 zero\n8 8 zero' });
  await kernel.suspend('disk0');
  await kernel.resume('disk0');
  await kernel.clearInactive('disk0');
  const mutations = calls.filter((call) => call.args[0] !== 'info');
  t.deepEqual(
    mutations.map((call) => call.args),
    [
      ['load', '-u', 'DMREMAP-disk0'],
      ['suspend', '-u', 'DMREMAP-disk0'],
      ['resume', '-u', 'DMREMAP-disk0'],
      ['clear', '-u', 'DMREMAP-disk0'],
    ],
  );
  t.is(mutations[0]?.input, '0 8 zero\n8 8 zero');
});

test('concurrent creates become one create --concise with escaped fields', async (t) => {
  const { runner, calls } = scriptedRunner(() => '');
  const kernel = new DmsetupKernel({ runner, scheduler: nextTick });
  await Promise.all([
    kernel.create({ name: 'a,b', uuid: 'DMREMAP-a', table: '0 8 zero' }),
    kernel.create({ name: 'c;d', uuid: 'DMREMAP-c', table: '0 8 zero\n8 8 error' }),
  ]);
  t.deepEqual(
    calls.map((call) => call.args),
    [['create', '--concise', '--', 'a\\,b,DMREMAP-a,,,0 8 zero;c\\;d,DMREMAP-c,,,0 8 zero,8 8 error']],
  );
});

test('after a failed create batch each caller learns its own outcome', async (t) => {
  // The batch fails on "bad"; "good" was created before it, "later" was not attempted,
  // "taken" collides with a foreign device.
  const existing: Row[] = [{ name: 'taken', uuid: 'CRYPT-x', minor: 0 }];
  const { runner, calls } = scriptedRunner((args) => {
    if (args[0] === 'info') return infoOutput(existing);
    if (args[0] === 'create' && args[3]?.includes(';')) {
      existing.push({ name: 'good', uuid: 'DMREMAP-good', minor: 1 });
      throw failure(args, 'device-mapper: reload ioctl on bad failed: No such device or address');
    }
    if (args[0] === 'create' && args[3]?.startsWith('bad,')) {
      throw failure(args, 'device-mapper: reload ioctl on bad failed: No such device or address');
    }
    if (args[0] === 'create' && args[3]?.startsWith('later,')) return '';
    throw new Error(`unexpected ${args.join(' ')}`);
  });
  const kernel = new DmsetupKernel({ runner, scheduler: nextTick });
  const results = await Promise.allSettled(
    ['good', 'bad', 'later', 'taken'].map((name) =>
      kernel.create({ name, uuid: `DMREMAP-${name}`, table: '0 8 zero' }),
    ),
  );
  t.deepEqual(
    results.map((result) => (result.status === 'fulfilled' ? 'ok' : (result.reason as KernelError).code)),
    ['ok', 'ENXIO', 'ok', 'ENOTOWNED'],
  );
  t.deepEqual(
    results.map((result) =>
      result.status === 'rejected' ? (result.reason as KernelError).device : undefined,
    ),
    [undefined, 'bad', undefined, 'taken'],
  );
  t.deepEqual(
    calls.map((call) =>
      `${call.args[0]} ${call.args[0] === 'create' ? (call.args[3]?.split(',')[0] ?? '') : ''}`.trim(),
    ),
    ['create good', 'info', 'create bad', 'create later'],
    'one batch, one listing, then only the unattributed items retried alone',
  );
});

test('removes are coalesced; missing and foreign names are answered from the listing without a process', async (t) => {
  const { runner, calls } = scriptedRunner((args) => {
    if (args[0] === 'info') {
      return infoOutput([
        { name: 'mine1', uuid: 'DMREMAP-mine1', minor: 0 },
        { name: 'mine2', uuid: 'DMREMAP-mine2', minor: 1 },
        { name: 'theirs', uuid: '', minor: 2 },
      ]);
    }
    return '';
  });
  const kernel = new DmsetupKernel({ runner, scheduler: nextTick });
  const results = await Promise.allSettled(
    ['mine1', 'ghost', 'theirs', 'mine2'].map((name) => kernel.remove(name)),
  );
  t.deepEqual(
    results.map((result) => (result.status === 'fulfilled' ? 'ok' : (result.reason as KernelError).code)),
    ['ok', 'ENXIO', 'ENOTOWNED', 'ok'],
  );
  t.deepEqual(
    calls.map((call) => call.args),
    [[...INFO_ARGS], ['remove', '--retry', '--', 'mine1', 'mine2']],
  );
});

test('a failed remove batch reports EBUSY for the device still open and success for the one gone', async (t) => {
  let removed = false;
  const { runner } = scriptedRunner((args) => {
    if (args[0] === 'info') {
      const rows: Row[] = [{ name: 'busy', uuid: 'DMREMAP-busy', minor: 0, open: 1 }];
      if (!removed) rows.push({ name: 'idle', uuid: 'DMREMAP-idle', minor: 1 });
      return infoOutput(rows);
    }
    removed = true;
    throw failure(args, 'device-mapper: remove ioctl on busy failed: Device or resource busy');
  });
  const kernel = new DmsetupKernel({ runner, scheduler: nextTick });
  const [busy, idle] = await Promise.allSettled([kernel.remove('busy'), kernel.remove('idle')]);
  t.is(idle?.status, 'fulfilled');
  t.is(((busy as PromiseRejectedResult).reason as KernelError).code, 'EBUSY');
});

test('loadModule runs no modprobe when the target is registered, and checks registration after modprobe', async (t) => {
  let loaded = true;
  const { runner, calls } = scriptedRunner((args) => {
    if (args[0] === 'targets') return loaded ? 'remap v1.0.0\n' : 'linear v1.4.0\n';
    return '';
  });
  const kernel = new DmsetupKernel({ runner });
  await kernel.loadModule();
  t.deepEqual(
    calls.map((call) => call.file),
    ['dmsetup'],
  );
  loaded = false;
  const error = await t.throwsAsync(kernel.loadModule(), { instanceOf: KernelError });
  t.is(error.code, 'ENOENT', 'modprobe "succeeded" but the target never appeared');
  t.deepEqual(
    calls.slice(1).map((call) => [call.file, ...call.args].join(' ')),
    ['dmsetup targets', 'modprobe dm-remap', 'dmsetup targets'],
  );
});

test('a process timeout becomes ETIMEDOUT naming the device', async (t) => {
  const { runner } = scriptedRunner((args) => {
    if (args[0] === 'info') return infoOutput([{ name: 'd', uuid: 'DMREMAP-d', minor: 0 }]);
    throw new ProcessFailure('dmsetup suspend: no answer', 'dmsetup', args, '', '', undefined, 'timeout');
  });
  const error = await t.throwsAsync(new DmsetupKernel({ runner }).suspend('d'), { instanceOf: KernelError });
  t.like(error, { code: 'ETIMEDOUT', device: 'd', operation: 'suspend' });
});

const GOOD_STATUS =
  'health=ok remapped=2 pending=0 spare_used=2 spare_total=100 read_errors=1 write_errors=0 remap_failures=0 metadata_seq=3';

/** A kernel listing `devices` (all live, owned unless the uuid says otherwise), with scripted table and status lines. */
function observedKernel(devices: readonly { name: string; uuid?: string; table: string; status: string }[]) {
  return scriptedRunner((args) => {
    if (args[0] === 'info') {
      return infoOutput(
        devices.map((device, minor) => ({
          name: device.name,
          uuid: device.uuid ?? `DMREMAP-${device.name}`,
          minor,
        })),
      );
    }
    if (args[0] === 'table') {
      return devices
        .map(
          (device, minor) =>
            `${device.name},${device.uuid ?? `DMREMAP-${device.name}`},${minor},rw,${device.table}`,
        )
        .join(';');
    }
    if (args[0] === 'status') {
      return devices
        .filter((device) => device.status !== 'none')
        .map((device) => `${device.name}: ${device.status}\n`)
        .join('');
    }
    return 'remap v1.0.0\n';
  });
}

test('a remap device whose status or table cannot be parsed is marked unreadable; the other devices are observed intact', async (t) => {
  const { runner } = observedKernel([
    { name: 'good', table: '0 8 remap 7:0 7:1', status: `0 8 remap ${GOOD_STATUS}` },
    { name: 'garbled', table: '0 8 remap 7:2 7:3', status: '0 8 remap health=ok' },
    { name: 'badline', table: '0 8 remap 7:4 7:5', status: 'nonsense' },
    { name: 'nostatus', table: '0 8 remap 7:6 7:7', status: 'none' },
    { name: 'badtable', table: '0 8 remap 7:8', status: `0 8 remap ${GOOD_STATUS}` },
    { name: 'linear', uuid: 'LVM-x', table: '0 8 linear 7:9 0', status: 'garbage from another target' },
  ]);
  const observation = await new DmsetupKernel({ runner }).observe();
  const byName = new Map(observation.devices.map((device) => [device.name, device]));
  const good = byName.get('good');
  t.like(good?.remap?.status, { health: 'ok', remappedBlocks: 2, readErrors: 1, metadataSequence: 3 });
  t.like(good?.remap?.table, { mainDevice: '7:0', spareDevice: '7:1' });
  t.is(good?.unreadable, undefined);
  const reasons: [string, RegExp][] = [
    ['garbled', /status.*lacks remapped=/],
    ['badline', /status.*nonsense/],
    ['nostatus', /status/],
    ['badtable', /table.*<spare_dev>/],
  ];
  for (const [name, reason] of reasons) {
    const device = byName.get(name);
    t.regex(device?.unreadable ?? '', reason, name);
    t.is(device?.remap, undefined, name);
    t.true(device?.hasLiveTable, name);
  }
  t.is(
    byName.get('linear')?.unreadable,
    undefined,
    'the status of a target the reconciler does not read is not judged',
  );
  t.is(byName.get('linear')?.table[0]?.targetType, 'linear');
});

test('a status with a health value this reconciler does not know is observed, not refused', async (t) => {
  const { runner } = observedKernel([
    {
      name: 'newer',
      table: '0 8 remap 7:0 7:1',
      status: `0 8 remap ${GOOD_STATUS.replace('health=ok', 'health=rebuilding')} rebuild_done=40`,
    },
  ]);
  const [device] = (await new DmsetupKernel({ runner }).observe()).devices;
  t.is(device?.unreadable, undefined);
  t.like(device?.remap?.status, { health: 'rebuilding', extra: { rebuild_done: '40' } });
});

test('output that cannot be parsed at all fails the observation with EPROTO', async (t) => {
  const { runner } = scriptedRunner((args) => (args[0] === 'info' ? 'not a listing\n' : ''));
  const error = await t.throwsAsync(new DmsetupKernel({ runner }).observe(), { instanceOf: KernelError });
  t.like(error, { code: 'EPROTO', operation: 'observe' });
});

test('a lone create that fails is attributed to its device with the kernel error code', async (t) => {
  const { runner } = scriptedRunner((args) => {
    if (args[0] === 'info') return infoOutput([]);
    throw failure(args, 'device-mapper: reload ioctl on spare2 failed: Device or resource busy');
  });
  const kernel = new DmsetupKernel({ runner, scheduler: nextTick });
  const error = await t.throwsAsync(
    kernel.create({ name: 'spare2', uuid: 'DMREMAP-spare2', table: '0 8 zero' }),
    {
      instanceOf: KernelError,
    },
  );
  t.like(error, { code: 'EBUSY', device: 'spare2', operation: 'create' });
});

/** The dmsetup options this adapter passes, with how many values each takes. */
const OPTION_VALUES: Record<string, number> = {
  '-c': 0,
  '--noheadings': 0,
  '--separator': 1,
  '-o': 1,
  '--concise': 0,
  '--retry': 0,
  '-u': 1,
};

/** The arguments dmsetup's getopt_long would read as options although they are operands (names, specs, words). */
function operandsBeforeDashDash(args: readonly string[]): string[] {
  const misread: string[] = [];
  for (let index = 1; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === '--') return misread;
    const values = OPTION_VALUES[arg];
    if (values === undefined) misread.push(arg);
    else index += values;
  }
  return misread;
}

test('every dmsetup operand comes after "--", so a name like "--force" is never read as an option', async (t) => {
  const names = ['--force', '-f'];
  const { runner, calls } = scriptedRunner((args) => {
    if (args[0] === 'info') {
      return infoOutput(names.map((name, minor) => ({ name, uuid: `DMREMAP-${minor}`, minor })));
    }
    return args[0] === 'targets' ? 'remap v1.0.0\n' : '';
  });
  const kernel = new DmsetupKernel({ runner, scheduler: nextTick });
  await kernel.observe();
  await Promise.all(
    names.map((name, index) => kernel.create({ name, uuid: `DMREMAP-${index}`, table: '0 8 zero' })),
  );
  await kernel.load({ name: '-f', uuid: 'DMREMAP-1', table: '0 8 zero' });
  await kernel.suspend('-f');
  await kernel.resume('-f');
  await kernel.clearInactive('-f');
  await kernel.message('-f', ['-x', 'clear_stats']);
  await Promise.all(names.map((name) => kernel.remove(name)));
  const dmsetupCalls = calls.filter((call) => call.file === 'dmsetup');
  t.deepEqual(
    new Set(dmsetupCalls.map((call) => call.args[0])),
    new Set([
      'info',
      'table',
      'status',
      'targets',
      'create',
      'load',
      'suspend',
      'resume',
      'clear',
      'message',
      'remove',
    ]),
    'every subcommand the adapter runs was checked',
  );
  for (const call of dmsetupCalls) {
    t.deepEqual(operandsBeforeDashDash(call.args), [], call.args.join(' '));
  }
  t.deepEqual(
    dmsetupCalls
      .filter((call) => ['create', 'message', 'remove'].includes(call.args[0]!))
      .map((call) => call.args),
    [
      ['create', '--concise', '--', '--force,DMREMAP-0,,,0 8 zero;-f,DMREMAP-1,,,0 8 zero'],
      ['message', '-u', 'DMREMAP-1', '--', '0', '-x', 'clear_stats'],
      ['remove', '--retry', '--', '--force', '-f'],
    ],
  );
});

test('dmsetup and modprobe run in the C locale, whose messages the error codes are read from', async (t) => {
  let loaded = false;
  const { runner, calls } = scriptedRunner((args) => {
    if (args[0] === 'info') return infoOutput([{ name: 'd', uuid: 'DMREMAP-d', minor: 0 }]);
    if (args[0] === 'targets') return loaded ? 'remap v1.0.0\n' : 'linear v1.4.0\n';
    if (args[0] === 'dm-remap') loaded = true; // modprobe
    return '';
  });
  const kernel = new DmsetupKernel({ runner, modprobe: 'modprobe' });
  await kernel.loadModule();
  await kernel.observe();
  await kernel.suspend('d');
  t.deepEqual([...new Set(calls.map((call) => call.file))], ['dmsetup', 'modprobe']);
  for (const call of calls) {
    t.like(call.env, { LC_ALL: 'C', LANG: 'C' }, [call.file, ...call.args].join(' '));
  }
});

test('the C locale reaches a real dmsetup process over an inherited one', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'dm-remap-locale-'));
  const previous = process.env.LC_ALL;
  process.env.LC_ALL = 'de_DE.UTF-8';
  t.teardown(async () => {
    if (previous === undefined) delete process.env.LC_ALL;
    else process.env.LC_ALL = previous;
    await rm(directory, { recursive: true, force: true });
  });
  // A stand-in dmsetup that registers the remap target only when it runs in the C locale.
  const fake = join(directory, 'dmsetup');
  await writeFile(
    fake,
    `#!${process.execPath}\n` +
      "const c = process.env.LC_ALL === 'C' && process.env.LANG === 'C';\n" +
      "if (process.argv[2] === 'targets') console.log(c ? 'remap v1.0.0' : 'linear v1.4.0');\n",
  );
  await chmod(fake, 0o755);
  const kernel = new DmsetupKernel({
    dmsetup: fake,
    modprobe: join(directory, 'no-modprobe'),
    runner: runProcess,
  });
  await t.notThrowsAsync(kernel.loadModule(), 'no modprobe: the target was listed');
});
