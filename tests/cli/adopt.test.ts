/** `dm-remap adopt NAME`: a remap device made by hand becomes one dm-remap manages, or is refused. */
import fs from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { CliWorld } from '../controller/cliHarness.js';
import type { SimDeviceState } from '../../reconciler/controller/simStateFile.js';

const HAND_TABLE = '0 65536 remap 8:0 8:16 4 block_size 8 read_retries 2';

/**
 * A world with disks x-main (8:0) and x-spare (8:16) linked from a by-id dir
 * of its own, the foreign devices `devices`, and an owned, converged `a`.
 */
async function handMade(t: ExecutionContext, devices: SimDeviceState[]) {
  const world = await CliWorld.create(t, ['x', 'a']);
  const byId = path.join(world.dir, 'by-id');
  await fs.mkdir(byId);
  const state = await world.kernel();
  for (const device of state.blockDevices) {
    if (!device.path.includes('/x-')) continue;
    device.path = path.join(byId, path.basename(device.path));
    await fs.writeFile(device.path, '');
  }
  state.moduleLoaded = true;
  state.devices.push(...devices);
  await world.writeKernel(state);
  await world.writeSpec('a');
  t.is((await world.cli('apply', ...world.kernelArgs)).status, 0);
  const adopt = (...args: string[]) =>
    world.cli(
      'adopt',
      ...args,
      '--config-dir',
      world.configDir,
      '--kernel',
      `sim:${world.simFile}`,
      '--by-id-dir',
      byId,
    );
  return { world, byId, adopt };
}

const HAND: SimDeviceState = { name: 'hand', uuid: '', table: HAND_TABLE };

test('adopt writes the spec of a hand-made remap device and gives it the owned UUID, changing nothing else', async (t) => {
  const { world, byId, adopt } = await handMade(t, [HAND]);
  const before = await world.device('hand');
  const run = await adopt('hand');
  t.is(run.status, 0, run.stderr);
  const file = path.join(world.configDir, 'hand.yaml');
  t.is(run.stdout, `hand: adopted: wrote ${file}, set the UUID DMREMAP-hand\n`);
  const text = await fs.readFile(file, 'utf8');
  t.true(
    text.endsWith(
      [
        'apiVersion: dm-remap/v1alpha1',
        'kind: RemapDevice',
        'metadata:',
        '  name: hand',
        'spec:',
        `  mainDevice: ${byId}/x-main`,
        `  spareDevice: ${byId}/x-spare`,
        '  blockSize: 4096',
        '  readRetries: 2',
        '',
      ].join('\n'),
    ),
    text,
  );
  t.is((await fs.stat(file)).mode & 0o777, 0o644);
  const after = await world.device('hand');
  t.deepEqual(after, { ...before, uuid: 'DMREMAP-hand' }, 'same table, not suspended');
  // The spec says what the device is: converging it changes nothing.
  const plan = await world.cli('plan', ...world.kernelArgs);
  t.is(plan.status, 0, plan.stdout + plan.stderr);
});

test('adopt --dry-run prints the spec it would write and changes nothing', async (t) => {
  const { world, adopt } = await handMade(t, [HAND]);
  const run = await adopt('hand', '--dry-run');
  t.is(run.status, 0, run.stderr);
  t.regex(run.stdout, /^# Adopted .*\n(?:#.*\n)*apiVersion: dm-remap\/v1alpha1\n[^]* {2}readRetries: 2\n$/);
  await t.throwsAsync(fs.access(path.join(world.configDir, 'hand.yaml')));
  t.is((await world.device('hand'))?.uuid, '');
});

test('adopt refuses what it cannot take over unambiguously, and changes nothing', async (t) => {
  const { world, adopt } = await handMade(t, [
    HAND,
    { name: 'crypt', uuid: 'CRYPT-LUKS2-1234-crypt', table: '0 2048 zero' },
    { name: 'lin', uuid: '', table: '0 2048 zero' },
  ]);
  const refusals: [string[], RegExp][] = [
    [
      ['crypt'],
      /crypt: refused: it has the UUID "CRYPT-LUKS2-1234-crypt" \(dm-crypt's\); device-mapper sets a UUID only on a device that has none/,
    ],
    [['a'], /a: refused: dm-remap manages it already/],
    [['lin'], /lin: refused: its table is not a single remap target \(zero\)/],
    [['nosuch'], /nosuch: refused: no such device/],
  ];
  for (const [args, message] of refusals) {
    const run = await adopt(...args);
    t.is(run.status, 1, args.join(' '));
    t.regex(run.stderr, message);
  }
  await world.writeSpec('hand');
  const declared = await adopt('hand');
  t.is(declared.status, 1);
  t.regex(declared.stderr, /hand: refused: .*hand\.yaml declares it already/);
  t.is((await world.device('hand'))?.uuid, '');
});

test('adopt refuses a device whose disks another spec uses, or that no stable link points at', async (t) => {
  const { world, byId, adopt } = await handMade(t, [HAND]);
  await world.writeSpec('other', [`mainDevice: ${byId}/x-main`, 'spareDevice: /dev/disk/by-id/other-spare']);
  const shared = await adopt('hand');
  t.is(shared.status, 1);
  t.regex(shared.stderr, /hand: refused: its main device .*x-main is the main device of other/);
  await fs.rm(path.join(world.configDir, 'other.yaml'));
  await fs.rm(path.join(byId, 'x-spare'));
  const unlinked = await adopt('hand');
  t.is(unlinked.status, 1);
  t.regex(unlinked.stderr, /hand: refused: no link in .*by-id points at its spare device \(8:16\)/);
  t.is((await world.device('hand'))?.uuid, '');
});

test('adopt refuses a table that maps less than its main device, which converging would change', async (t) => {
  const { world, adopt } = await handMade(t, [
    { name: 'hand', uuid: '', table: HAND_TABLE.replace('0 65536', '0 32768') },
    { name: 'bad!name', uuid: '', table: '0 2048 zero' },
  ]);
  const short = await adopt('hand');
  t.is(short.status, 1);
  t.regex(short.stderr, /hand: refused: its table maps 32768 sectors but its main device has 65536/);
  const badName = await adopt('bad!name');
  t.is(badName.status, 1);
  t.regex(badName.stderr, /bad!name: refused: the name contains/);
  t.is((await world.device('hand'))?.uuid, '');
});
