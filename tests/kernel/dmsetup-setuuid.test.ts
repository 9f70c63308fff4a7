/** DmsetupKernel.setUuid: the one change it makes to a device it does not own yet — giving it the owned UUID. */
import test from 'ava';

import { KernelError } from '../../reconciler/kernel/adapter.js';
import { DmsetupKernel } from '../../reconciler/kernel/dmsetup.js';
import { INFO_SEPARATOR } from '../../reconciler/kernel/dmsetup-parse.js';
import type { ProcessRunner } from '../../reconciler/kernel/process.js';

/** A fake dmsetup listing `rows` ([uuid, name]); every call is recorded. */
function kernelListing(rows: readonly (readonly [string, string])[]) {
  const calls: (readonly string[])[] = [];
  const runner: ProcessRunner = (_file, args) => {
    calls.push(args);
    const info = rows.map(([uuid, name], minor) =>
      [uuid, '253', minor, 'L--w', 0, name].join(INFO_SEPARATOR),
    );
    return Promise.resolve({ stdout: args[0] === 'info' ? `${info.join('\n')}\n` : '', stderr: '' });
  };
  return { kernel: new DmsetupKernel({ runner }), calls };
}

test('setUuid gives a device without a UUID the owned one, by name after --', async (t) => {
  const { kernel, calls } = kernelListing([['', 'hand']]);
  await kernel.setUuid('hand', 'DMREMAP-hand');
  t.deepEqual(calls.at(-1), ['rename', '--setuuid', '--', 'hand', 'DMREMAP-hand']);
});

test('setUuid refuses a device that has a UUID, a UUID without the owned prefix and a missing device', async (t) => {
  const { kernel, calls } = kernelListing([
    ['LVM-abc', 'vg-root'],
    ['DMREMAP-mine', 'mine'],
    ['', 'hand'],
  ]);
  const codeOf = async (promise: Promise<void>) =>
    (await t.throwsAsync(promise, { instanceOf: KernelError })).code;
  t.is(await codeOf(kernel.setUuid('vg-root', 'DMREMAP-vg-root')), 'ENOTOWNED');
  t.is(await codeOf(kernel.setUuid('mine', 'DMREMAP-other')), 'EEXIST');
  t.is(await codeOf(kernel.setUuid('hand', 'LVM-hand')), 'ENOTOWNED');
  t.is(await codeOf(kernel.setUuid('nosuch', 'DMREMAP-nosuch')), 'ENXIO');
  t.true(
    calls.every((args) => args[0] === 'info'),
    'nothing but listings ran',
  );
});
