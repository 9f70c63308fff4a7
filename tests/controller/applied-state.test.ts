/**
 * The applied state across controllers: what one controller records (the
 * spec a device converged to, its spare's remap counts) protects the device
 * when a later controller — a daemon restart, an `apply` after a reboot —
 * finds it down. The store is shared between controllers as the state dir
 * is shared between processes.
 */
import test from 'ava';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStateStore, MemoryStateStore } from '../../reconciler/controller/stateStore.js';
import { MemorySpecs, capturingLogger, mutations, newController, newKernel } from './simWorld.js';
import type { Controller } from '../../reconciler/controller/controller.js';

const TIMEOUT_MS = 5_000;
const NEW_SPARE = '/dev/disk/by-id/new-spare';

async function converge(controller: Controller) {
  const result = await controller.converge(TIMEOUT_MS);
  await controller.stop(TIMEOUT_MS);
  return result;
}

/** Device a created, 2 blocks remapped and seen by a pass, then the device taken down by `takeDown`. */
/** Device a declared on its default spare, a blank NEW_SPARE beside it, and a state store of their own. */
function worldWithNewSpare() {
  const kernel = newKernel(['a']);
  kernel.addBlockDevice(NEW_SPARE, 8_192);
  const specs = new MemorySpecs();
  specs.set('a');
  return { kernel, specs, stateStore: new MemoryStateStore() };
}

type TakeDown = (
  kernel: ReturnType<typeof newKernel>,
  specs: MemorySpecs,
  stateStore: MemoryStateStore,
) => Promise<void>;

async function remappedThenDown(takeDown: TakeDown) {
  const { kernel, specs, stateStore } = worldWithNewSpare();
  await converge(newController(kernel, specs, { stateStore }));
  kernel.injectRemappedBlocks('a', 2);
  await converge(newController(kernel, specs, { stateStore }));
  await takeDown(kernel, specs, stateStore);
  return { kernel, specs, stateStore };
}

test('removed out of band, then a new spare: a restarted reconciler refuses to create it', async (t) => {
  const { kernel, specs, stateStore } = await remappedThenDown((kernel) => kernel.remove('a'));
  specs.set('a', { spareDevice: NEW_SPARE });
  const before = mutations(kernel);
  const { reports } = await converge(newController(kernel, specs, { stateStore }));
  t.like(reports[0], { name: 'a', state: 'failed.refused', converged: false });
  t.like(reports[0]?.operation, { kind: 'refuse', code: 'wouldStrandData' });
  t.regex(reports[0]?.operation?.reason ?? '', /held 2 remapped and 0 pending blocks/);
  t.is(mutations(kernel), before);
  t.deepEqual((await kernel.observe()).devices, []);
});

test('remapped after the last pass, then removed out of band: the old spare is read and the new one refused', async (t) => {
  const { kernel, specs, stateStore } = worldWithNewSpare();
  // Only apply ever ran: the record says 0 remaps.
  await converge(newController(kernel, specs, { stateStore }));
  await kernel.message('a', ['remap', '17']);
  await kernel.remove('a');
  t.like((await stateStore.loadAll()).get('a'), { record: { remappedBlocks: 0 } });
  specs.set('a', { spareDevice: NEW_SPARE });
  const { reports } = await converge(newController(kernel, specs, { stateStore }));
  t.like(reports[0], { state: 'failed.refused' });
  t.regex(reports[0]?.operation?.reason ?? '', /holds 1 remapped blocks \(read from its metadata now\)/);
  t.deepEqual((await kernel.observe()).devices, []);
});

test('removed by state: absent, then a new spare: refused; the old spare brings it back', async (t) => {
  const { kernel, specs, stateStore } = await remappedThenDown(async (kernel, specs, stateStore) => {
    specs.set('a', { state: 'absent' });
    await converge(newController(kernel, specs, { stateStore }));
  });
  t.deepEqual((await kernel.observe()).devices, []);
  specs.set('a', { spareDevice: NEW_SPARE });
  t.like((await converge(newController(kernel, specs, { stateStore }))).reports[0], {
    state: 'failed.refused',
  });
  specs.set('a');
  t.like((await converge(newController(kernel, specs, { stateStore }))).reports[0], { state: 'active' });
});

test('--accept-data-loss creates it on the new spare, and the record then follows the new spare', async (t) => {
  const { kernel, specs, stateStore } = await remappedThenDown((kernel) => kernel.remove('a'));
  specs.set('a', { spareDevice: NEW_SPARE });
  const accepted = await converge(newController(kernel, specs, { stateStore, acceptDataLoss: ['a'] }));
  t.like(accepted.reports[0], { state: 'active' });
  const record = (await stateStore.loadAll()).get('a');
  t.like(record, { state: 'ok', record: { spare: { path: NEW_SPARE }, remappedBlocks: 0 } });
  // Later passes need no override: the new spare holds nothing yet.
  await kernel.remove('a');
  t.like((await converge(newController(kernel, specs, { stateStore }))).reports[0], { state: 'active' });
});

test('a removal records the counts read after the suspend, so remaps made since the last pass count', async (t) => {
  const { kernel, specs, stateStore } = worldWithNewSpare();
  await converge(newController(kernel, specs, { stateStore }));
  const { logger, lines } = capturingLogger();
  const controller = newController(kernel, specs, { stateStore, logger });
  await controller.converge(TIMEOUT_MS);
  // Remaps and a pending block appear after this controller's last pass; the removal still sees them.
  kernel.injectRemappedBlocks('a', 4);
  kernel.setRemapStatus('a', { pendingBlocks: 1 });
  specs.set('a', { state: 'absent' });
  await controller.reconcileAll();
  await controller.converge(TIMEOUT_MS);
  await controller.stop(TIMEOUT_MS);
  t.like((await stateStore.loadAll()).get('a'), { record: { remappedBlocks: 4, pendingBlocks: 1 } });
  t.true(lines.some((line) => line.level === 'warn' && /1 pending blocks/.test(line.message)));
  t.true(kernel.calls.suspend > 0, 'the device was suspended before it was removed');
  specs.set('a', { spareDevice: NEW_SPARE });
  t.like((await converge(newController(kernel, specs, { stateStore }))).reports[0], {
    state: 'failed.refused',
  });
});

test('a spec deleted while the daemon was down is removed by its recorded removalPolicy', async (t) => {
  const kernel = newKernel(['a']);
  const specs = new MemorySpecs();
  const stateStore = new MemoryStateStore();
  specs.set('a', { removalPolicy: 'Delete' });
  await converge(newController(kernel, specs, { stateStore }));
  specs.delete('a');
  const { reports } = await converge(newController(kernel, specs, { stateStore }));
  t.deepEqual((await kernel.observe()).devices, []);
  t.deepEqual(reports, []);
  t.false((await stateStore.loadAll()).has('a'), 'the record goes with the device and its spec');
});

test('a refusal reports its own reason, not a failure from before it', async (t) => {
  const kernel = newKernel(['a']);
  kernel.addBlockDevice(NEW_SPARE, 8_192);
  const specs = new MemorySpecs();
  specs.set('a');
  await converge(newController(kernel, specs));
  kernel.injectRemappedBlocks('a', 1);
  kernel.failNext('load', { device: 'a', code: 'EIO' });
  const controller = newController(kernel, specs, { retryLimit: 0 });
  specs.set('a', { readRetries: 7 });
  await controller.converge(TIMEOUT_MS);
  t.like(controller.reports()[0]?.failure, { code: 'EIO' });
  specs.set('a', { readRetries: 7, spareDevice: NEW_SPARE });
  await controller.reconcileAll();
  const { reports } = await controller.converge(TIMEOUT_MS);
  await controller.stop(TIMEOUT_MS);
  t.like(reports[0], { state: 'failed.refused', failure: undefined });
  t.like(reports[0]?.operation, { kind: 'refuse', code: 'wouldStrandData' });
  t.regex(reports[0]?.operation?.reason ?? '', /would strand 1 remapped/);
});

test('the file store writes atomically, reads back, and reports a corrupt file without acting on it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dm-remap-state-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const kernel = newKernel(['a', 'b']);
  kernel.addBlockDevice(NEW_SPARE, 8_192);
  const specs = new MemorySpecs();
  specs.set('a');
  specs.set('b');
  const store = new FileStateStore(dir);
  await converge(newController(kernel, specs, { stateStore: store }));
  kernel.injectRemappedBlocks('a', 3);
  await converge(newController(kernel, specs, { stateStore: store }));
  t.deepEqual((await readdir(join(dir, 'devices'))).sort(), ['a.json', 'b.json']);
  const saved = JSON.parse(await readFile(join(dir, 'devices', 'a.json'), 'utf8')) as {
    remappedBlocks: number;
  };
  t.is(saved.remappedBlocks, 3);

  // A torn or hand-edited file: the device it belongs to is not created on a guess.
  await writeFile(join(dir, 'devices', 'b.json'), '{"version": 1, "name": "b", "spec": ');
  await kernel.remove('a');
  await kernel.remove('b');
  specs.set('a', { spareDevice: NEW_SPARE });
  const { logger, lines } = capturingLogger();
  const controller = newController(kernel, specs, { stateStore: new FileStateStore(dir), logger });
  const { reports } = await converge(controller);
  t.like(reports[0], { name: 'a', state: 'failed.refused' });
  t.like(reports[1], { name: 'b', state: 'failed.refused' });
  t.like(reports[1]?.operation, { kind: 'refuse', code: 'stateUnreadable' });
  t.true(
    lines.some((line) => line.level === 'error' && /b\.json is unreadable: not JSON/.test(line.message)),
  );
  t.deepEqual((await kernel.observe()).devices, []);
});

test('a steady pass does not rewrite the state', async (t) => {
  const kernel = newKernel(['a']);
  const specs = new MemorySpecs();
  specs.set('a');
  let writes = 0;
  const store = new MemoryStateStore();
  const counting = Object.assign(Object.create(store) as MemoryStateStore, {
    write: (record: Parameters<MemoryStateStore['write']>[0]) => {
      writes += 1;
      return store.write(record);
    },
  });
  await converge(newController(kernel, specs, { stateStore: counting }));
  const first = writes;
  await converge(newController(kernel, specs, { stateStore: counting }));
  t.is(first, 1);
  t.is(writes, first);
});

test('a state dir that cannot be written is reported once and does not stop the device', async (t) => {
  const kernel = newKernel(['a']);
  const specs = new MemorySpecs();
  specs.set('a');
  const store = new MemoryStateStore();
  const readOnly = Object.assign(Object.create(store) as MemoryStateStore, {
    write: () => Promise.reject(Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' })),
  });
  const { logger, lines } = capturingLogger();
  const controller = newController(kernel, specs, { stateStore: readOnly, logger });
  const { reports } = await controller.converge(TIMEOUT_MS);
  await controller.reconcileAll();
  await controller.converge(TIMEOUT_MS);
  await controller.stop(TIMEOUT_MS);
  t.like(reports[0], { name: 'a', state: 'active' });
  t.is(lines.filter((line) => /cannot save the applied state of a/.test(line.message)).length, 1);
});
