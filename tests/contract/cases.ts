/**
 * The kernel adapter contract, as executable cases. The same list runs
 * against SimulatedKernel (tests/contract/simulated.test.ts, in `npm test`)
 * and against DmsetupKernel on a real kernel (tests/contract/run-real.ts, in
 * the guest), so the simulator the reconciler's tests rely on cannot drift
 * from what device-mapper really does.
 */
import assert from 'node:assert/strict';

import { KernelError, OWNED_UUID_PREFIX, TARGET_NAME } from '../../reconciler/kernel/adapter.js';
import type { BlockDeviceInfo, ObservedDevice } from '../../reconciler/kernel/adapter.js';
import type { ContractCase, ContractFixture } from './fixture.js';

const SIZE = 4096;

function owned(name: string): string {
  return `${OWNED_UUID_PREFIX}${name}`;
}

/** A table for an owned device: remap when the target is there, linear otherwise. */
function ownedTable(
  fixture: ContractFixture,
  main: BlockDeviceInfo,
  spare: BlockDeviceInfo,
  length = SIZE,
): string {
  return fixture.remapAvailable
    ? `0 ${length} ${TARGET_NAME} ${main.path} ${spare.path} 4 block_size 8 read_retries 3`
    : `0 ${length} linear ${main.path} 0`;
}

/** A remap table for `main` on `spare` with main_id `mainId` (none when undefined). */
function remapTable(main: BlockDeviceInfo, spare: BlockDeviceInfo, mainId?: string): string {
  const features =
    mainId === undefined
      ? '4 block_size 8 read_retries 3'
      : `6 block_size 8 read_retries 3 main_id ${mainId}`;
  return `0 ${SIZE} ${TARGET_NAME} ${main.path} ${spare.path} ${features}`;
}

/** Create `name` with `table`, then remove it: what stays behind is the spare's format. */
async function formatSpare(fixture: ContractFixture, name: string, table: string): Promise<void> {
  await fixture.kernel.create({ name, uuid: owned(name), table });
  await fixture.kernel.remove(name);
}

/**
 * A second, different table for the same device, as a reload would load.
 * For remap only read_retries changes: the module refuses a spare formatted
 * for another main size or block_size, so a reload keeps both. Without the
 * module a `zero` table stands in: any other table shows the swap.
 */
function reloadTable(fixture: ContractFixture, main: BlockDeviceInfo, spare: BlockDeviceInfo): string {
  return fixture.remapAvailable
    ? `0 ${SIZE} ${TARGET_NAME} ${main.path} ${spare.path} 4 block_size 8 read_retries 5`
    : `0 ${SIZE} zero`;
}

/** Whether an observed live table is the one reloadTable() made. */
function isReloaded(device: ObservedDevice): boolean {
  const line = device.table[0];
  return line?.targetType === 'zero' || (line?.args.endsWith(' read_retries 5') ?? false);
}

async function find(fixture: ContractFixture, name: string): Promise<ObservedDevice | undefined> {
  const observation = await fixture.kernel.observe();
  return observation.devices.find((device) => device.name === name);
}

async function mustFind(fixture: ContractFixture, name: string): Promise<ObservedDevice> {
  const device = await find(fixture, name);
  assert.ok(device, `${name} should be observed`);
  return device;
}

/** Awaits `promise`, asserting it rejects with a KernelError of `code` naming `device`. */
async function rejectsWith(promise: Promise<unknown>, code: string, device?: string): Promise<KernelError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof KernelError, `expected a KernelError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, `expected code ${code}: ${caught.message}`);
  if (device !== undefined) assert.equal(caught.device, device);
  return caught;
}

async function backing(fixture: ContractFixture): Promise<{ main: BlockDeviceInfo; spare: BlockDeviceInfo }> {
  return { main: await fixture.blockDevice(SIZE), spare: await fixture.blockDevice(1024) };
}

export const contractCases: ContractCase[] = [
  {
    name: 'create then observe shows an owned, live, resumed device with its table in major:minor form',
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const name = fixture.uniqueName('create');
      await fixture.kernel.create({ name, uuid: owned(name), table: ownedTable(fixture, main, spare) });
      const device = await mustFind(fixture, name);
      assert.equal(device.uuid, owned(name));
      assert.equal(device.owned, true);
      assert.equal(device.suspended, false);
      assert.equal(device.hasLiveTable, true);
      assert.equal(device.hasInactiveTable, false);
      assert.equal(device.openCount, 0);
      assert.equal(device.table.length, 1);
      const [line] = device.table;
      assert.equal(line?.startSector, 0);
      assert.equal(line?.lengthSectors, SIZE);
      if (fixture.remapAvailable) {
        assert.equal(line?.targetType, TARGET_NAME);
        assert.equal(line?.args, `${main.majorMinor} ${spare.majorMinor} 4 block_size 8 read_retries 3`);
      } else {
        assert.equal(line?.targetType, 'linear');
        assert.equal(line?.args, `${main.majorMinor} 0`);
        assert.equal(device.remap, undefined);
      }
    },
  },
  {
    name: 'a remap device reports its parsed table and a healthy fresh status',
    needsRemap: true,
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const name = fixture.uniqueName('status');
      await fixture.kernel.create({ name, uuid: owned(name), table: ownedTable(fixture, main, spare) });
      const device = await mustFind(fixture, name);
      assert.ok(device.remap, 'remap table/status should be parsed');
      assert.deepEqual(device.remap.table, {
        startSector: 0,
        lengthSectors: SIZE,
        mainDevice: main.majorMinor,
        spareDevice: spare.majorMinor,
        blockSizeSectors: 8,
        readRetries: 3,
      });
      assert.equal(device.remap.status.health, 'ok');
      assert.equal(device.remap.status.remappedBlocks, 0);
      assert.equal(device.remap.status.spareBlocksUsed, 0);
      assert.ok(device.remap.status.spareBlocksTotal > 0, 'spare capacity should be reported');
    },
  },
  {
    name: 'load puts a table in the inactive slot without touching the live one',
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const name = fixture.uniqueName('inactive');
      await fixture.kernel.create({ name, uuid: owned(name), table: ownedTable(fixture, main, spare) });
      await fixture.kernel.load({
        name,
        uuid: owned(name),
        table: reloadTable(fixture, main, spare),
      });
      const device = await mustFind(fixture, name);
      assert.equal(device.hasInactiveTable, true);
      assert.equal(device.hasLiveTable, true);
      assert.equal(device.suspended, false);
      assert.equal(isReloaded(device), false, 'live table unchanged until resume');
    },
  },
  {
    name: 'suspend then resume swaps the inactive table in',
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const name = fixture.uniqueName('swap');
      await fixture.kernel.create({ name, uuid: owned(name), table: ownedTable(fixture, main, spare) });
      await fixture.kernel.load({
        name,
        uuid: owned(name),
        table: reloadTable(fixture, main, spare),
      });
      await fixture.kernel.suspend(name);
      const suspended = await mustFind(fixture, name);
      assert.equal(suspended.suspended, true);
      assert.equal(isReloaded(suspended), false);
      await fixture.kernel.resume(name);
      const resumed = await mustFind(fixture, name);
      assert.equal(resumed.suspended, false);
      assert.equal(resumed.hasInactiveTable, false);
      assert.equal(isReloaded(resumed), true);
    },
  },
  {
    name: 'clearInactive drops a loaded table and keeps the live one',
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const name = fixture.uniqueName('clear');
      await fixture.kernel.create({ name, uuid: owned(name), table: ownedTable(fixture, main, spare) });
      await fixture.kernel.load({
        name,
        uuid: owned(name),
        table: reloadTable(fixture, main, spare),
      });
      await fixture.kernel.clearInactive(name);
      const device = await mustFind(fixture, name);
      assert.equal(device.hasInactiveTable, false);
      assert.equal(isReloaded(device), false);
    },
  },
  {
    name: 'a remap table of another length for an already formatted spare is refused with EINVAL',
    needsRemap: true,
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const name = fixture.uniqueName('resize');
      await fixture.kernel.create({ name, uuid: owned(name), table: ownedTable(fixture, main, spare) });
      await rejectsWith(
        fixture.kernel.load({ name, uuid: owned(name), table: ownedTable(fixture, main, spare, SIZE / 2) }),
        'EINVAL',
        name,
      );
      const device = await mustFind(fixture, name);
      assert.equal(device.hasInactiveTable, false);
      assert.equal(device.table[0]?.lengthSectors, SIZE);
    },
  },
  {
    name: 'a spare already used by another remap device is refused with EBUSY',
    needsRemap: true,
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const otherMain = await fixture.blockDevice(SIZE);
      const first = fixture.uniqueName('spare1');
      const second = fixture.uniqueName('spare2');
      await fixture.kernel.create({
        name: first,
        uuid: owned(first),
        table: ownedTable(fixture, main, spare),
      });
      await rejectsWith(
        fixture.kernel.create({
          name: second,
          uuid: owned(second),
          table: ownedTable(fixture, otherMain, spare),
        }),
        'EBUSY',
        second,
      );
      assert.equal(await find(fixture, second), undefined);
    },
  },
  {
    name: 'a name full of separators (": ", ",", ";", "\\", spaces) is created, reloaded and removed intact',
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const stem = fixture.uniqueName('odd');
      const name = `${stem}: a, b; c\\ d`;
      // A device named by the prefix up to ": " must not swallow the odd device's lines.
      const other = await fixture.blockDevice(SIZE);
      await fixture.kernel.create({
        name: stem,
        uuid: owned(stem),
        table: `0 ${SIZE} linear ${other.path} 0`,
      });
      await fixture.kernel.create({
        name,
        uuid: owned(`${stem}-odd`),
        table: ownedTable(fixture, main, spare),
      });
      const created = await mustFind(fixture, name);
      assert.equal(created.uuid, owned(`${stem}-odd`));
      assert.equal(created.table[0]?.targetType, fixture.remapAvailable ? TARGET_NAME : 'linear');
      assert.equal((await mustFind(fixture, stem)).table[0]?.targetType, 'linear');
      if (fixture.remapAvailable) assert.equal(created.remap?.status.health, 'ok');
      await fixture.kernel.load({
        name,
        uuid: owned(`${stem}-odd`),
        table: reloadTable(fixture, main, spare),
      });
      await fixture.kernel.suspend(name);
      await fixture.kernel.resume(name);
      assert.equal(isReloaded(await mustFind(fixture, name)), true);
      await Promise.all([fixture.kernel.remove(name), fixture.kernel.remove(stem)]);
      assert.equal(await find(fixture, name), undefined);
      assert.equal(await find(fixture, stem), undefined);
    },
  },
  {
    name: 'a remap device whose status cannot be parsed is observed as unreadable; the other device is intact',
    needsRemap: true,
    async run(fixture) {
      const first = await backing(fixture);
      const second = await backing(fixture);
      const garbled = fixture.uniqueName('garbled');
      const intact = fixture.uniqueName('intact');
      await fixture.kernel.create({
        name: garbled,
        uuid: owned(garbled),
        table: remapTable(first.main, first.spare),
      });
      await fixture.kernel.create({
        name: intact,
        uuid: owned(intact),
        table: remapTable(second.main, second.spare),
      });
      fixture.garbleStatus(garbled, 'health=ok remapped=many');
      const devices = (await fixture.kernel.observe()).devices;
      const unreadable = devices.find((device) => device.name === garbled);
      assert.ok(unreadable, `${garbled} should be observed`);
      assert.match(unreadable.unreadable ?? '', /remapped/);
      assert.equal(unreadable.remap, undefined);
      assert.equal(unreadable.hasLiveTable, true);
      const other = devices.find((device) => device.name === intact);
      assert.equal(other?.unreadable, undefined);
      assert.equal(other?.remap?.table.spareDevice, second.spare.majorMinor);
      assert.equal(other?.remap?.status.health, 'ok');
    },
  },
  {
    name: 'messages reach the remap target: a known one answers, an unknown one is EINVAL',
    needsRemap: true,
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const name = fixture.uniqueName('message');
      await fixture.kernel.create({ name, uuid: owned(name), table: ownedTable(fixture, main, spare) });
      assert.equal(await fixture.kernel.message(name, ['clear_stats']), '');
      await rejectsWith(fixture.kernel.message(name, ['no_such_message']), 'EINVAL', name);
    },
  },
  {
    name: 'list_remaps answers "<block> <slot>" per remap in the range asked, ascending; list_pending lists nothing on a sound main',
    needsRemap: true,
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const name = fixture.uniqueName('list');
      await fixture.kernel.create({ name, uuid: owned(name), table: remapTable(main, spare) });
      const message = (...args: string[]) => fixture.kernel.message(name, args);
      assert.equal(await message('list_remaps'), '');
      // Slots are handed out in the order blocks move; blocks already remapped are skipped.
      await message('remap', '10', '3');
      await message('remap', '5', '8');
      assert.equal(await message('list_remaps'), '5 3\n6 4\n7 5\n8 6\n9 7\n10 0\n11 1\n12 2');
      assert.equal(await message('list_remaps', '9', '2'), '9 7\n10 0');
      assert.equal(await message('list_remaps', '12'), '12 2');
      assert.equal(
        await message('LIST_REMAPS', '13', '1000000'),
        '',
        'a range is cut at the end of the device',
      );
      assert.equal(await message('list_pending'), '');
      assert.equal(await message('list_pending', '0', '512'), '');
      // SIZE sectors of 8 are blocks 0 to 511: a first block beyond them, or a count of 0, is refused.
      await rejectsWith(message('list_remaps', '512'), 'EINVAL', name);
      await rejectsWith(message('list_remaps', '0', '0'), 'EINVAL', name);
      await rejectsWith(message('list_pending', '0', '1', '2'), 'EINVAL', name);
    },
  },
  {
    name: 'a remap past the last free slot moves the blocks that fit, then fails with ENOSPC',
    needsRemap: true,
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const name = fixture.uniqueName('full');
      await fixture.kernel.create({ name, uuid: owned(name), table: remapTable(main, spare) });
      const total = (await mustFind(fixture, name)).remap?.status.spareBlocksTotal ?? 0;
      assert.ok(total > 0 && total < 500, `a small spare: ${total} slots`);
      await rejectsWith(fixture.kernel.message(name, ['remap', '0', String(total + 5)]), 'ENOSPC', name);
      const status = (await mustFind(fixture, name)).remap?.status;
      assert.equal(status?.remappedBlocks, total);
      assert.equal(status?.spareBlocksUsed, total);
      assert.equal(status?.health, 'spare_full');
      const lines = (await fixture.kernel.message(name, ['list_remaps'])).split('\n');
      assert.equal(lines.length, total);
      assert.equal(lines.at(-1), `${total - 1} ${total - 1}`);
    },
  },
  {
    name: 'a remap message to a suspended device fails with EBUSY and moves nothing',
    needsRemap: true,
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const name = fixture.uniqueName('suspended');
      await fixture.kernel.create({ name, uuid: owned(name), table: remapTable(main, spare) });
      await fixture.kernel.suspend(name);
      try {
        await rejectsWith(fixture.kernel.message(name, ['remap', '0', '4']), 'EBUSY', name);
        assert.equal(await fixture.kernel.message(name, ['list_remaps']), '');
      } finally {
        await fixture.kernel.resume(name);
      }
      assert.equal((await mustFind(fixture, name)).remap?.status.remappedBlocks, 0);
    },
  },
  {
    name: 'create of an existing name fails with EEXIST and leaves the device as it was',
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const name = fixture.uniqueName('exists');
      await fixture.kernel.create({ name, uuid: owned(name), table: ownedTable(fixture, main, spare) });
      const before = await mustFind(fixture, name);
      await rejectsWith(
        fixture.kernel.create({
          name,
          uuid: owned(`${name}-2`),
          table: reloadTable(fixture, main, spare),
        }),
        'EEXIST',
        name,
      );
      assert.deepEqual(await mustFind(fixture, name), before);
    },
  },
  {
    name: 'remove of an open device fails with EBUSY; after close it succeeds',
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const name = fixture.uniqueName('busy');
      await fixture.kernel.create({ name, uuid: owned(name), table: ownedTable(fixture, main, spare) });
      const close = await fixture.holdOpen(name);
      try {
        assert.ok((await mustFind(fixture, name)).openCount >= 1, 'open count should show the holder');
        await rejectsWith(fixture.kernel.remove(name), 'EBUSY', name);
        assert.ok(await find(fixture, name), 'device must survive a refused remove');
      } finally {
        await close();
      }
      await fixture.kernel.remove(name);
      assert.equal(await find(fixture, name), undefined);
    },
  },
  {
    name: 'remove of a missing device fails with ENXIO',
    async run(fixture) {
      await rejectsWith(fixture.kernel.remove(fixture.uniqueName('missing')), 'ENXIO');
    },
  },
  {
    name: 'every mutation of a foreign device is refused with ENOTOWNED and the device is unchanged',
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const foreign = fixture.uniqueName('foreign');
      const bare = fixture.uniqueName('bare');
      await fixture.createForeign(foreign, `FOREIGN-${foreign}`, `0 ${SIZE} linear ${main.path} 0`);
      await fixture.createForeign(bare, '', `0 ${spare.sizeSectors} linear ${spare.path} 0`);
      for (const name of [foreign, bare]) {
        const before = await mustFind(fixture, name);
        assert.equal(before.owned, false);
        const desired = { name, uuid: owned(name), table: `0 ${SIZE / 2} linear ${main.path} 0` };
        await rejectsWith(fixture.kernel.create(desired), 'ENOTOWNED', name);
        await rejectsWith(fixture.kernel.load(desired), 'ENOTOWNED', name);
        await rejectsWith(fixture.kernel.suspend(name), 'ENOTOWNED', name);
        await rejectsWith(fixture.kernel.resume(name), 'ENOTOWNED', name);
        await rejectsWith(fixture.kernel.clearInactive(name), 'ENOTOWNED', name);
        await rejectsWith(fixture.kernel.remove(name), 'ENOTOWNED', name);
        await rejectsWith(fixture.kernel.message(name, ['stats']), 'ENOTOWNED', name);
        assert.deepEqual(await mustFind(fixture, name), before);
      }
    },
  },
  {
    name: 'setUuid gives a device without a UUID the owned one and changes nothing else; a device with a UUID is refused',
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const bare = fixture.uniqueName('bare');
      const foreign = fixture.uniqueName('foreign');
      await fixture.createForeign(bare, '', `0 ${SIZE} linear ${main.path} 0`);
      await fixture.createForeign(
        foreign,
        `FOREIGN-${foreign}`,
        `0 ${spare.sizeSectors} linear ${spare.path} 0`,
      );
      const before = await mustFind(fixture, bare);
      await fixture.kernel.setUuid(bare, owned(bare));
      assert.deepEqual(await mustFind(fixture, bare), { ...before, uuid: owned(bare), owned: true });
      await rejectsWith(fixture.kernel.setUuid(bare, owned(`${bare}-2`)), 'EEXIST', bare);
      const foreignBefore = await mustFind(fixture, foreign);
      await rejectsWith(fixture.kernel.setUuid(foreign, owned(foreign)), 'ENOTOWNED', foreign);
      assert.deepEqual(await mustFind(fixture, foreign), foreignBefore);
    },
  },
  {
    name: 'create with a UUID lacking the owned prefix is refused before anything happens',
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const name = fixture.uniqueName('badid');
      const createsBefore = fixture.processCount('create');
      await rejectsWith(
        fixture.kernel.create({ name, uuid: `OTHER-${name}`, table: ownedTable(fixture, main, spare) }),
        'ENOTOWNED',
        name,
      );
      assert.equal(fixture.processCount('create'), createsBefore, 'no create process may run');
      assert.equal(await find(fixture, name), undefined);
    },
  },
  {
    name: 'concurrent creates are coalesced into one create process',
    async run(fixture) {
      const names = [1, 2, 3].map((index) => fixture.uniqueName(`batch${index}`));
      const tables = await Promise.all(
        names.map(async () => {
          const { main, spare } = await backing(fixture);
          return ownedTable(fixture, main, spare);
        }),
      );
      const before = fixture.processCount('create');
      await Promise.all(
        names.map((name, index) => fixture.kernel.create({ name, uuid: owned(name), table: tables[index]! })),
      );
      assert.equal(fixture.processCount('create') - before, 1, 'one process for the whole batch');
      const observed = await fixture.kernel.observe();
      for (const name of names) {
        assert.ok(
          observed.devices.some((device) => device.name === name && device.hasLiveTable),
          `${name} created`,
        );
      }
    },
  },
  {
    name: 'in a coalesced batch with one invalid device, each caller gets its own outcome',
    async run(fixture) {
      const good = [fixture.uniqueName('good1'), fixture.uniqueName('good2')];
      const bad = fixture.uniqueName('bad');
      const { main, spare } = await backing(fixture);
      const other = await backing(fixture);
      const missing = fixture.remapAvailable
        ? `0 ${SIZE} ${TARGET_NAME} 259:999 ${spare.path} 0`
        : `0 ${SIZE} linear 259:999 0`;
      const results = await Promise.allSettled([
        fixture.kernel.create({
          name: good[0]!,
          uuid: owned(good[0]!),
          table: ownedTable(fixture, main, spare),
        }),
        fixture.kernel.create({ name: bad, uuid: owned(bad), table: missing }),
        fixture.kernel.create({
          name: good[1]!,
          uuid: owned(good[1]!),
          table: ownedTable(fixture, other.main, other.spare),
        }),
      ]);
      assert.equal(
        results[0]?.status,
        'fulfilled',
        `good1: ${String((results[0] as PromiseRejectedResult).reason)}`,
      );
      assert.equal(
        results[2]?.status,
        'fulfilled',
        `good2: ${String((results[2] as PromiseRejectedResult).reason)}`,
      );
      assert.equal(results[1]?.status, 'rejected');
      const reason = results[1].reason as unknown;
      assert.ok(reason instanceof KernelError, String(reason));
      assert.equal(reason.device, bad);
      assert.ok(['ENXIO', 'EINVAL'].includes(reason.code), `code ${reason.code}: ${reason.message}`);
      assert.equal(await find(fixture, bad), undefined, 'a failed create leaves nothing behind');
      for (const name of good) assert.ok(await find(fixture, name), `${name} created`);
    },
  },
  {
    name: 'concurrent removes are coalesced into one remove process',
    async run(fixture) {
      const names = [fixture.uniqueName('rm1'), fixture.uniqueName('rm2')];
      for (const name of names) {
        const { main, spare } = await backing(fixture);
        await fixture.kernel.create({ name, uuid: owned(name), table: ownedTable(fixture, main, spare) });
      }
      const before = fixture.processCount('remove');
      await Promise.all(names.map((name) => fixture.kernel.remove(name)));
      assert.equal(fixture.processCount('remove') - before, 1);
      for (const name of names) assert.equal(await find(fixture, name), undefined);
    },
  },
  {
    name: 'a device created without a table is visible as half-done and can be finished',
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const empty = fixture.uniqueName('notable');
      const loaded = fixture.uniqueName('loaded');
      await fixture.createHalfDone(empty, owned(empty));
      await fixture.createHalfDone(loaded, owned(loaded), ownedTable(fixture, main, spare));
      const emptyDevice = await mustFind(fixture, empty);
      assert.equal(emptyDevice.owned, true);
      assert.equal(emptyDevice.hasLiveTable, false);
      assert.equal(emptyDevice.hasInactiveTable, false);
      assert.deepEqual(emptyDevice.table, []);
      const loadedDevice = await mustFind(fixture, loaded);
      assert.equal(loadedDevice.hasLiveTable, false);
      assert.equal(loadedDevice.hasInactiveTable, true);
      await fixture.kernel.resume(loaded);
      const finished = await mustFind(fixture, loaded);
      assert.equal(finished.hasLiveTable, true);
      assert.equal(finished.hasInactiveTable, false);
      assert.equal(finished.suspended, false);
      await fixture.kernel.remove(empty);
      assert.equal(await find(fixture, empty), undefined);
    },
  },
  {
    name: 'load of a table whose backing device does not exist fails and leaves the slot empty',
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const name = fixture.uniqueName('nodev');
      await fixture.kernel.create({ name, uuid: owned(name), table: ownedTable(fixture, main, spare) });
      await rejectsWith(
        fixture.kernel.load({ name, uuid: owned(name), table: `0 ${SIZE} linear 259:999 0` }),
        'ENXIO',
        name,
      );
      assert.equal((await mustFind(fixture, name)).hasInactiveTable, false);
    },
  },
  {
    name: 'mutations of a missing device fail with ENXIO',
    async run(fixture) {
      const name = fixture.uniqueName('ghost');
      await rejectsWith(fixture.kernel.suspend(name), 'ENXIO', name);
      await rejectsWith(fixture.kernel.resume(name), 'ENXIO', name);
      await rejectsWith(fixture.kernel.load({ name, uuid: owned(name), table: '0 8 zero' }), 'ENXIO', name);
    },
  },
  {
    name: 'inspectBlockDevice reports major:minor and size, and undefined for a missing path',
    async run(fixture) {
      const device = await fixture.blockDevice(2048);
      const info = await fixture.kernel.inspectBlockDevice(device.path);
      assert.deepEqual(info, { path: device.path, majorMinor: device.majorMinor, sizeSectors: 2048 });
      assert.equal(
        await fixture.kernel.inspectBlockDevice('/dev/dm-remap-contract-no-such-device'),
        undefined,
      );
    },
  },
  {
    name: 'readSpareMetadata: a new spare is blank; once a remap table went live it shows what it was formatted for',
    needsRemap: true,
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      assert.deepEqual(await fixture.kernel.readSpareMetadata(spare.path), { state: 'blank' });
      const name = fixture.uniqueName('format');
      await fixture.kernel.create({
        name,
        uuid: owned(name),
        table: remapTable(main, spare, 'contract-disk.1'),
      });
      assert.equal((await mustFind(fixture, name)).remap?.table.mainId, 'contract-disk.1');
      const metadata = await fixture.kernel.readSpareMetadata(spare.path);
      assert.ok(
        metadata.state === 'formatted',
        `spare should read as formatted: ${JSON.stringify(metadata)}`,
      );
      // The format id is the module's random choice at format time: its shape is all a case can know.
      const { formatId, ...superblock } = metadata.superblock;
      assert.match(formatId ?? '', /^[0-9a-f]{16}$/);
      assert.deepEqual(
        { ...superblock, sequence: 0 },
        {
          version: 1,
          blockSectors: 8,
          mainSectors: SIZE,
          spareSectors: spare.sizeSectors,
          sequence: 0,
          mainId: 'contract-disk.1',
        },
      );
    },
  },
  {
    name: 'readSpareMetadata counts the remaps the table holds, across table sectors, once the device is gone',
    needsRemap: true,
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const name = fixture.uniqueName('count');
      await fixture.kernel.create({
        name,
        uuid: owned(name),
        table: remapTable(main, spare, 'contract-disk.2'),
      });
      // 70 blocks: more than the 60 entries of one table sector.
      await fixture.kernel.message(name, ['remap', '3', '70']);
      assert.equal((await mustFind(fixture, name)).remap?.status.remappedBlocks, 70);
      await fixture.kernel.remove(name);
      const metadata = await fixture.kernel.readSpareMetadata(spare.path);
      assert.ok(
        metadata.state === 'formatted',
        `spare should read as formatted: ${JSON.stringify(metadata)}`,
      );
      assert.equal(metadata.remapCount, 70);
      // The module loads them back: the spare, not the reconciler, is where remaps live.
      await fixture.kernel.create({
        name,
        uuid: owned(name),
        table: remapTable(main, spare, 'contract-disk.2'),
      });
      assert.equal((await mustFind(fixture, name)).remap?.status.remappedBlocks, 70);
    },
  },
  {
    name: 'a spare formatted with a main_id refuses a table with another main_id, or with none (EINVAL)',
    needsRemap: true,
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      await formatSpare(fixture, fixture.uniqueName('owner'), remapTable(main, spare, 'disk-a'));
      const name = fixture.uniqueName('other');
      for (const mainId of ['disk-b', undefined]) {
        await rejectsWith(
          fixture.kernel.create({ name, uuid: owned(name), table: remapTable(main, spare, mainId) }),
          'EINVAL',
          name,
        );
        assert.equal(await find(fixture, name), undefined);
      }
      await fixture.kernel.create({ name, uuid: owned(name), table: remapTable(main, spare, 'disk-a') });
      assert.equal((await mustFind(fixture, name)).hasLiveTable, true);
    },
  },
  {
    name: 'a spare formatted without main_id keeps taking tables without one and refuses one that gives one',
    needsRemap: true,
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      await formatSpare(fixture, fixture.uniqueName('legacy'), remapTable(main, spare));
      assert.deepEqual(
        await fixture.kernel
          .readSpareMetadata(spare.path)
          .then((m) => m.state === 'formatted' && m.superblock.mainId),
        '',
      );
      const name = fixture.uniqueName('again');
      await rejectsWith(
        fixture.kernel.create({ name, uuid: owned(name), table: remapTable(main, spare, 'disk-a') }),
        'EINVAL',
        name,
      );
      await fixture.kernel.create({ name, uuid: owned(name), table: remapTable(main, spare) });
      assert.equal((await mustFind(fixture, name)).remap?.table.mainId, undefined);
    },
  },
  {
    name: 'a spare whose two superblocks are damaged reads as unknown and is refused with EILSEQ, left as it was',
    needsRemap: true,
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      await formatSpare(fixture, fixture.uniqueName('damaged'), remapTable(main, spare, 'disk-a'));
      const garbage = new Uint8Array(64).fill(0xa5);
      await fixture.writeBlockDevice(spare, 96, garbage);
      await fixture.writeBlockDevice(spare, 4096 + 96, garbage);
      const metadata = await fixture.kernel.readSpareMetadata(spare.path);
      assert.equal(metadata.state, 'unknown');
      assert.match(
        metadata.state === 'unknown' ? metadata.reason : '',
        /checksum mismatch.*checksum mismatch/,
      );
      const name = fixture.uniqueName('refused');
      await rejectsWith(
        fixture.kernel.create({ name, uuid: owned(name), table: remapTable(main, spare, 'disk-a') }),
        'EILSEQ',
        name,
      );
      assert.deepEqual(await fixture.kernel.readSpareMetadata(spare.path), metadata);
    },
  },
  {
    name: 'inspectBlockDevice reports a device-mapper device with its dm uuid as identity, a loop device with none',
    async run(fixture) {
      const disk = await fixture.blockDevice(SIZE);
      assert.equal((await fixture.kernel.inspectBlockDevice(disk.path))?.identity, undefined);
      const name = fixture.uniqueName('identity');
      await fixture.createForeign(name, `TEST-${name}`, `0 ${SIZE} linear ${disk.path} 0`);
      const info = await fixture.kernel.inspectBlockDevice(`/dev/mapper/${name}`);
      assert.equal(info?.identity?.value, `dm-uuid-TEST-${name}`);
      assert.equal(info?.identity?.mainId, `dm-uuid-TEST-${name}`);
      assert.match(info?.identity?.source ?? '', /dm\/uuid$/);
    },
  },
  {
    name: 'loadModule is idempotent: once the target is registered no modprobe runs',
    needsRemap: true,
    async run(fixture) {
      await fixture.kernel.loadModule();
      const before = fixture.processCount('modprobe');
      await fixture.kernel.loadModule();
      assert.equal(fixture.processCount('modprobe'), before);
      assert.equal((await fixture.kernel.observe()).moduleLoaded, true);
    },
  },
  {
    name: 'an already aborted signal makes create fail with ECANCELED and create nothing',
    async run(fixture) {
      const { main, spare } = await backing(fixture);
      const name = fixture.uniqueName('abort');
      const controller = new AbortController();
      controller.abort();
      await rejectsWith(
        fixture.kernel.create(
          { name, uuid: owned(name), table: ownedTable(fixture, main, spare) },
          controller.signal,
        ),
        'ECANCELED',
        name,
      );
      assert.equal(await find(fixture, name), undefined);
    },
  },
];
