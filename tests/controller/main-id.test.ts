/**
 * main_id end to end through the controller and the simulated kernel: a spare
 * is tied to the disk it was formatted for, not to a name. Two disks of the
 * same size trade names (as /dev/sda and /dev/sdb can between boots); the
 * spare of one must then be refused for the other before the kernel is asked.
 * Spares formatted before main_id existed keep working, with a warning.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';

import type { ObservedDevice } from '../../reconciler/kernel/adapter.js';
import { SimulatedKernel } from '../../reconciler/kernel/simulated.js';
import { formattedHeader } from '../../reconciler/kernel/simulated-spare.js';
import {
  capturingLogger,
  MAIN_SECTORS,
  MemorySpecs,
  mutations,
  newController,
  SPARE_SECTORS,
} from './simWorld.js';
import type { LogLine } from './simWorld.js';

const TIMEOUT_MS = 5_000;
const DISK_A = 'naa.5000c50000000a01';
const DISK_B = 'naa.5000c50000000b02';
const MAIN_LINK = '/run/disks/main';
const SPARE = '/dev/sdc';

/** Two mains of one size with their own identities, a spare, and /run/disks/main pointing at /dev/sda. */
function swapWorld(): SimulatedKernel {
  const kernel = new SimulatedKernel({ moduleLoaded: true, batchWindowMs: 1, hangTimeoutMs: 2_000 });
  kernel.addBlockDevice('/dev/sda', MAIN_SECTORS, { major: 8, minor: 0 }, DISK_A);
  kernel.addBlockDevice('/dev/sdb', MAIN_SECTORS, { major: 8, minor: 16 }, DISK_B);
  kernel.addBlockDevice(SPARE, SPARE_SECTORS, { major: 8, minor: 32 });
  kernel.linkBlockDevice(MAIN_LINK, '/dev/sda');
  return kernel;
}

function declare(specs: MemorySpecs, overrides: { readRetries?: number; state?: 'absent' } = {}): void {
  specs.set('data', { mainDevice: MAIN_LINK, spareDevice: SPARE, ...overrides });
}

async function converge(kernel: SimulatedKernel, specs: MemorySpecs) {
  const { logger, lines } = capturingLogger();
  const controller = newController(kernel, specs, { logger, retryLimit: 1 });
  const result = await controller.converge(TIMEOUT_MS);
  await controller.stop(TIMEOUT_MS);
  return { ...result, lines };
}

async function live(kernel: SimulatedKernel): Promise<ObservedDevice | undefined> {
  return (await kernel.observe()).devices.find((device) => device.name === 'data');
}

function warnings(lines: LogLine[]): string[] {
  return lines.filter((line) => line.level === 'warn').map((line) => line.message);
}

async function createThenRemove(t: ExecutionContext, kernel: SimulatedKernel, specs: MemorySpecs) {
  declare(specs);
  t.true((await converge(kernel, specs)).reports.every((report) => report.converged));
  declare(specs, { state: 'absent' });
  await converge(kernel, specs);
  t.is(await live(kernel), undefined);
}

test('the main disk identity goes into the table as main_id when a blank spare is formatted', async (t) => {
  const kernel = swapWorld();
  const specs = new MemorySpecs();
  declare(specs);
  const { reports, lines } = await converge(kernel, specs);
  t.like(reports[0], { state: 'active', converged: true });
  t.is((await live(kernel))?.remap?.table.mainId, DISK_A);
  t.deepEqual(warnings(lines), []);
  t.like(await kernel.readSpareMetadata(SPARE), { state: 'formatted', superblock: { mainId: DISK_A } });
});

test('after the disks trade names, the spare of one is refused for the other before the kernel is touched', async (t) => {
  const kernel = swapWorld();
  const specs = new MemorySpecs();
  await createThenRemove(t, kernel, specs);
  const spareBefore = kernel.blockDeviceHeader(SPARE);
  kernel.linkBlockDevice(MAIN_LINK, '/dev/sdb'); // the next boot named the other disk first
  const before = mutations(kernel);
  declare(specs);
  const { reports } = await converge(kernel, specs);
  t.like(reports[0], { state: 'failed.refused', converged: false });
  const reason = reports[0]?.operation?.reason ?? '';
  t.regex(reason, /spare \/dev\/sdc \(8:32\) belongs to the main disk "naa\.5000c50000000a01"/);
  t.regex(reason, /main device \/run\/disks\/main \(8:16\) is "naa\.5000c50000000b02"/);
  t.regex(reason, /\/run\/disks\/main is not the disk this spare belongs to/);
  t.is(mutations(kernel), before, 'no kernel call was made');
  t.is(await live(kernel), undefined);
  t.deepEqual(kernel.blockDeviceHeader(SPARE), spareBefore, 'the spare is untouched');
});

test('pointed back at the right disk, the same spare is accepted again', async (t) => {
  const kernel = swapWorld();
  const specs = new MemorySpecs();
  await createThenRemove(t, kernel, specs);
  kernel.linkBlockDevice(MAIN_LINK, '/dev/sdb');
  declare(specs);
  t.like((await converge(kernel, specs)).reports[0], { state: 'failed.refused' });
  kernel.linkBlockDevice(MAIN_LINK, '/dev/sda');
  t.like((await converge(kernel, specs)).reports[0], { state: 'active', converged: true });
  t.is((await live(kernel))?.remap?.table.mainId, DISK_A);
});

test('a spare formatted without main_id (before this reconciler passed one) keeps working, with a warning', async (t) => {
  const kernel = swapWorld();
  kernel.writeBlockDevice(
    SPARE,
    0,
    formattedHeader({
      blockSectors: 8,
      mainSectors: MAIN_SECTORS,
      spareSectors: SPARE_SECTORS,
      sequence: 3,
      mainId: '',
    }),
  );
  const specs = new MemorySpecs();
  declare(specs);
  const { reports, lines } = await converge(kernel, specs);
  t.like(reports[0], { state: 'active', converged: true });
  t.is((await live(kernel))?.remap?.table.mainId, undefined);
  t.true(
    warnings(lines).some(
      (message) => /formatted without a main_id/.test(message) && /not protected/.test(message),
    ),
    warnings(lines).join('\n'),
  );
});

test('a main disk without a stable identity (a loop device) is created without main_id, with a warning', async (t) => {
  const kernel = swapWorld();
  kernel.addBlockDevice('/dev/loop0', MAIN_SECTORS, { major: 7, minor: 0 });
  const specs = new MemorySpecs();
  specs.set('data', { mainDevice: '/dev/loop0', spareDevice: SPARE });
  const { reports, lines } = await converge(kernel, specs);
  t.like(reports[0], { state: 'active', converged: true });
  t.is((await live(kernel))?.remap?.table.mainId, undefined);
  t.true(
    warnings(lines).some((message) => /\/dev\/loop0 \(7:0\) has no stable identity/.test(message)),
    warnings(lines).join('\n'),
  );
});

test('a reload keeps the live main_id, and main_id alone never causes a reload', async (t) => {
  const kernel = swapWorld();
  const specs = new MemorySpecs();
  declare(specs);
  await converge(kernel, specs);
  declare(specs, { readRetries: 6 });
  await converge(kernel, specs);
  const table = (await live(kernel))?.remap?.table;
  t.is(table?.readRetries, 6);
  t.is(table?.mainId, DISK_A);
  const before = mutations(kernel);
  await converge(kernel, specs);
  t.is(mutations(kernel), before, 'a converged device is left alone');
});

test('a live device without main_id is not reloaded to add one', async (t) => {
  const kernel = swapWorld();
  await kernel.create({
    name: 'data',
    uuid: 'DMREMAP-data',
    table: `0 ${MAIN_SECTORS} remap ${MAIN_LINK} ${SPARE} 4 block_size 8 read_retries 3`,
  });
  const specs = new MemorySpecs();
  declare(specs);
  const before = mutations(kernel);
  t.like((await converge(kernel, specs)).reports[0], { state: 'active', converged: true });
  t.is(mutations(kernel), before);
  declare(specs, { readRetries: 5 });
  await converge(kernel, specs);
  t.like((await live(kernel))?.remap?.table, { readRetries: 5, mainId: undefined });
});

test('a spare whose superblocks are both damaged is left to the kernel, which refuses it; the warning says why', async (t) => {
  const kernel = swapWorld();
  kernel.writeBlockDevice(SPARE, 0, new Uint8Array(512).fill(0x5a));
  kernel.writeBlockDevice(SPARE, 4096, new Uint8Array(512).fill(0x5a));
  const specs = new MemorySpecs();
  declare(specs);
  const { reports, lines } = await converge(kernel, specs);
  t.like(reports[0], { converged: false });
  t.regex(reports[0]?.failure?.message ?? '', /corrupt or foreign/);
  t.true(
    warnings(lines).some((message) => /neither superblock copy is valid/.test(message)),
    warnings(lines).join('\n'),
  );
  t.is(await live(kernel), undefined);
});
