/**
 * The controller against the simulated kernel: convergence, drift repair,
 * crash leftovers, holds and refusals, and fault injection on every adapter
 * call (each failure backs off and retries alone; other devices carry on).
 */
import test from 'ava';
import type { SimulatedOperation } from '../../reconciler/kernel/simulated.js';
import {
  capturingLogger,
  MemorySpecs,
  mutations,
  newController,
  newKernel,
  MAIN_SECTORS,
} from './simWorld.js';
import { deviceSpec } from './builders.js';
import type { Controller } from '../../reconciler/controller/controller.js';
import { createActor, waitFor } from 'xstate';
import { provideKernelEffects } from '../../reconciler/controller/effects.js';
import { KernelSession } from '../../reconciler/controller/kernelSession.js';
import type { DevicePlan, Operation } from '../../reconciler/controller/plan.js';
import type { KernelAdapter } from '../../reconciler/kernel/adapter.js';

const TIMEOUT_MS = 5_000;

function tableOf(name: string, retries = 3, spare = deviceSpec(name).spareDevice): string {
  const spec = deviceSpec(name);
  return `0 ${MAIN_SECTORS} remap ${spec.mainDevice} ${spare} 4 block_size 8 read_retries ${retries}`;
}

async function converge(controller: Controller) {
  const result = await controller.converge(TIMEOUT_MS);
  await controller.stop(TIMEOUT_MS);
  return result;
}

async function planKinds(controller: Controller): Promise<string[]> {
  await controller.loadSpecs();
  return (await controller.plan()).devices.flatMap((device) =>
    device.operations.map((op) => `${device.name}:${op.kind}`),
  );
}

test('declared devices are created, owned and live; the plan is then empty', async (t) => {
  const kernel = newKernel(['a', 'b'], { moduleLoaded: false });
  kernel.addForeignDevice('vg-root', 'LVM-xyz', '0 2048 zero');
  const specs = new MemorySpecs();
  specs.set('a');
  specs.set('b', { readRetries: 7 });
  const { reports, timedOut } = await converge(newController(kernel, specs));
  t.false(timedOut);
  t.deepEqual(
    reports.map((report) => [report.name, report.state, report.converged]),
    [
      ['a', 'active', true],
      ['b', 'active', true],
    ],
  );
  const observation = await kernel.observe();
  const b = observation.devices.find((device) => device.name === 'b');
  t.is(b?.uuid, 'DMREMAP-b');
  t.is(b?.remap?.table.readRetries, 7);
  t.like(
    observation.devices.find((device) => device.name === 'vg-root'),
    { uuid: 'LVM-xyz', owned: false },
  );
  t.deepEqual(await planKinds(newController(kernel, specs)), []);
});

test('creates of several devices are batched into one kernel call', async (t) => {
  const kernel = newKernel(['a', 'b', 'c']);
  const specs = new MemorySpecs();
  ['a', 'b', 'c'].forEach((name) => specs.set(name));
  await converge(newController(kernel, specs));
  t.is(kernel.calls.create, 1);
});

test('a second apply on a converged system changes nothing', async (t) => {
  const kernel = newKernel(['a']);
  const specs = new MemorySpecs();
  specs.set('a');
  await converge(newController(kernel, specs));
  const before = mutations(kernel);
  await converge(newController(kernel, specs));
  t.is(mutations(kernel), before);
});

test('a pass over converged devices observes the kernel once, not once to list and again per device', async (t) => {
  const kernel = newKernel(['a', 'b', 'c']);
  const specs = new MemorySpecs();
  for (const name of ['a', 'b', 'c']) specs.set(name);
  await converge(newController(kernel, specs));
  const before = kernel.calls.observe;
  const { timedOut } = await converge(newController(kernel, specs));
  t.false(timedOut);
  t.is(kernel.calls.observe - before, 1);
});

test('a device that acted in a pass observes afresh, never from the listing taken before its action', async (t) => {
  const kernel = newKernel(['a', 'b']);
  const specs = new MemorySpecs();
  specs.set('a');
  specs.set('b');
  await converge(newController(kernel, specs));
  await kernel.suspend('a');
  const before = kernel.calls.observe;
  await converge(newController(kernel, specs));
  t.false((await kernel.observe()).devices.find((device) => device.name === 'a')?.suspended);
  // The listing, then a's observation after its resume: the listing is not reused once a mutation ran.
  t.true(kernel.calls.observe - before >= 2);
  t.is(kernel.calls.resume, 1);
});

test('drift is repaired: removed out of band, table changed, left suspended, stale inactive table', async (t) => {
  const kernel = newKernel(['a', 'b', 'c', 'd']);
  const specs = new MemorySpecs();
  ['a', 'b', 'c', 'd'].forEach((name) => specs.set(name));
  await converge(newController(kernel, specs));

  await kernel.remove('a');
  await kernel.load({ name: 'b', uuid: 'DMREMAP-b', table: tableOf('b', 9) });
  await kernel.resume('b');
  await kernel.suspend('c');
  await kernel.load({ name: 'd', uuid: 'DMREMAP-d', table: tableOf('d', 11) });
  t.deepEqual(await planKinds(newController(kernel, specs)), [
    'a:create',
    'b:reload',
    'c:resume',
    'd:clearInactive',
  ]);

  const { reports } = await converge(newController(kernel, specs));
  t.true(reports.every((report) => report.converged));
  const devices = (await kernel.observe()).devices;
  t.true(devices.every((device) => !device.suspended && !device.hasInactiveTable && device.hasLiveTable));
  t.is(devices.find((device) => device.name === 'b')?.remap?.table.readRetries, 3);
  t.deepEqual(await planKinds(newController(kernel, specs)), []);
});

test('half-created devices are completed when declared and rolled back when not', async (t) => {
  const kernel = newKernel(['a', 'b']);
  kernel.addHalfCreatedDevice('a', 'DMREMAP-a', tableOf('a'));
  kernel.addHalfCreatedDevice('b', 'DMREMAP-b');
  const specs = new MemorySpecs();
  specs.set('a');
  specs.set('b', { state: 'absent' });
  const { reports } = await converge(newController(kernel, specs));
  t.deepEqual(
    reports.map((report) => [report.name, report.state]),
    [
      ['a', 'active'],
      ['b', 'absent'],
    ],
  );
  const devices = (await kernel.observe()).devices;
  t.deepEqual(
    devices.map((device) => [device.name, device.hasLiveTable, device.suspended]),
    [['a', true, false]],
  );
});

test('an invalid spec file freezes its running device: only a leftover suspend is repaired', async (t) => {
  const kernel = newKernel(['a', 'b']);
  const specs = new MemorySpecs();
  specs.set('a');
  specs.set('b');
  await converge(newController(kernel, specs));
  await kernel.suspend('a'); // drift that would normally be repaired
  specs.breakFile('a');
  specs.set('b', { readRetries: 5 });
  const before = kernel.calls.resume;
  const loadsBefore = kernel.calls.load;
  const controller = newController(kernel, specs);
  const { reports } = await converge(controller);
  t.like(reports[0], { name: 'a', state: 'held', converged: true });
  t.like(reports[1], { name: 'b', state: 'active' });
  t.is(kernel.calls.resume - before, 2, 'b was reloaded and a resumed, nothing else');
  t.is(kernel.calls.load, loadsBefore + 1, 'only b got a new table');
  t.false((await kernel.observe()).devices.find((device) => device.name === 'a')?.suspended);
});

test('a spare change that would strand remapped blocks is refused and the device keeps running', async (t) => {
  const kernel = newKernel(['a']);
  kernel.addBlockDevice('/dev/disk/by-id/new-spare', 8_192);
  const specs = new MemorySpecs();
  specs.set('a');
  await converge(newController(kernel, specs));
  kernel.injectRemappedBlocks('a', 3);
  specs.set('a', { spareDevice: '/dev/disk/by-id/new-spare' });
  const before = mutations(kernel);
  const { reports } = await converge(newController(kernel, specs));
  t.like(reports[0], { name: 'a', state: 'failed.refused', converged: false });
  t.is(mutations(kernel), before);
  t.is((await kernel.observe()).devices[0]?.remap?.table.spareDevice, '7:1');
});

test('deleted specs: Retain leaves an orphan, Delete removes it, an open device is never removed', async (t) => {
  const kernel = newKernel(['keep', 'drop', 'busy']);
  const specs = new MemorySpecs();
  specs.set('keep');
  specs.set('drop', { removalPolicy: 'Delete' });
  specs.set('busy', { removalPolicy: 'Delete' });
  const controller = newController(kernel, specs);
  await controller.converge(TIMEOUT_MS);
  const close = kernel.open('busy');
  ['keep', 'drop', 'busy'].forEach((name) => specs.delete(name));
  const { reports } = await controller.converge(TIMEOUT_MS);
  t.deepEqual(
    reports.map((report) => [report.name, report.state]),
    [
      ['busy', 'removalBlocked'],
      ['keep', 'orphaned'],
    ],
  );
  t.deepEqual(
    (await kernel.observe()).devices.map((device) => device.name),
    ['busy', 'keep'],
  );
  close();
  await controller.converge(TIMEOUT_MS);
  t.deepEqual(
    (await kernel.observe()).devices.map((device) => device.name),
    ['keep'],
  );
  await controller.stop(TIMEOUT_MS);
});

test('a config that cannot be trusted stops every action', async (t) => {
  const kernel = newKernel(['a']);
  const specs = new MemorySpecs();
  specs.set('a');
  specs.diagnostics = [
    {
      severity: 'error',
      code: 'insecure-permissions',
      message: 'writable by group',
      file: '/etc/dm-remap.d',
    },
  ];
  const controller = newController(kernel, specs);
  const { reports } = await converge(controller);
  t.deepEqual(reports, []);
  t.regex(controller.refusalReason ?? '', /writable by group/);
  t.is(mutations(kernel), 0);
});

test('a missing config dir is not read as "every spec was deleted"', async (t) => {
  const kernel = newKernel(['a']);
  const specs = new MemorySpecs();
  specs.set('a', { removalPolicy: 'Delete' });
  const controller = newController(kernel, specs);
  await controller.converge(TIMEOUT_MS);
  specs.delete('a');
  specs.diagnostics = [
    { severity: 'error', code: 'path-not-found', message: 'no such directory', file: '/etc/x' },
  ];
  await controller.converge(TIMEOUT_MS);
  await controller.stop(TIMEOUT_MS);
  t.deepEqual(
    (await kernel.observe()).devices.map((device) => device.name),
    ['a'],
  );
});

test('a retry that fires after the config turned unreadable holds the device instead of acting', async (t) => {
  const kernel = newKernel(['a']);
  const specs = new MemorySpecs();
  specs.set('a', { removalPolicy: 'Delete' });
  const controller = newController(kernel, specs, { retryLimit: Infinity });
  await controller.converge(TIMEOUT_MS);
  specs.set('a', { removalPolicy: 'Delete', readRetries: 6 });
  kernel.failNext('load', { device: 'a', code: 'EIO' });
  await controller.reconcileAll();
  await controller.waitUntil((report) => report.state === 'failed.backingOff', TIMEOUT_MS);
  // The config dir vanishes while a's retry is pending: its spec is gone and its last policy says Delete.
  specs.delete('a');
  specs.diagnostics = [
    { severity: 'error', code: 'path-not-found', message: 'no such directory', file: '/etc/x' },
  ];
  await controller.loadSpecs();
  t.true(await controller.waitUntil((report) => report.state === 'held', TIMEOUT_MS));
  await controller.stop(TIMEOUT_MS);
  t.deepEqual(
    (await kernel.observe()).devices.map((device) => device.name),
    ['a'],
  );
});

/** For each adapter call: a world in which device `a` needs that call, plus a device `b` that needs a create. */
const FAULT_SCENARIOS: Record<
  // The controller never sends messages nor sets UUIDs (admin verbs do).
  Exclude<SimulatedOperation, 'message' | 'setUuid'>,
  (kernel: ReturnType<typeof newKernel>, specs: MemorySpecs) => Promise<void>
> = {
  observe: nothingToArrange,
  inspectBlockDevice: nothingToArrange,
  readSpareMetadata: nothingToArrange,
  loadModule: nothingToArrange,
  create: nothingToArrange,
  load: driftA,
  suspend: driftA,
  resume: driftA,
  clearInactive: async (kernel) => {
    await createA(kernel);
    await kernel.load({ name: 'a', uuid: 'DMREMAP-a', table: tableOf('a', 6) });
  },
  remove: async (kernel, specs) => {
    await createA(kernel);
    specs.set('a', { state: 'absent' });
  },
};

/** The base world (a and b declared, nothing in the kernel) already needs this call. */
function nothingToArrange(): Promise<void> {
  return Promise.resolve();
}

async function createA(kernel: ReturnType<typeof newKernel>): Promise<void> {
  await kernel.create({ name: 'a', uuid: 'DMREMAP-a', table: tableOf('a') });
}

async function driftA(kernel: ReturnType<typeof newKernel>): Promise<void> {
  await createA(kernel);
  await kernel.load({ name: 'a', uuid: 'DMREMAP-a', table: tableOf('a', 6) });
  await kernel.resume('a');
}

for (const [operation, arrange] of Object.entries(FAULT_SCENARIOS)) {
  for (const mode of ['fails', 'hangs'] as const) {
    test(`when ${operation} ${mode} for one device, it backs off and retries while the other converges`, async (t) => {
      const global = operation === 'observe' || operation === 'loadModule';
      const kernel = newKernel(['a', 'b'], { moduleLoaded: operation !== 'loadModule' });
      const specs = new MemorySpecs();
      specs.set('a');
      specs.set('b');
      await arrange(kernel, specs);
      const device =
        operation === 'inspectBlockDevice'
          ? deviceSpec('a').mainDevice
          : operation === 'readSpareMetadata'
            ? deviceSpec('a').spareDevice
            : global
              ? undefined
              : 'a';
      kernel.failNext(operation as SimulatedOperation, {
        ...(device === undefined ? {} : { device }),
        ...(mode === 'hangs' ? { hang: true } : { code: 'EIO' }),
      });
      const { logger, lines } = capturingLogger();
      // The hang must end by this timeout, while every healthy operation (in-process, fast) must finish
      // well within it even on a loaded CI machine: 100 ms was seen to expire for the healthy device.
      const controller = newController(kernel, specs, { operationTimeoutMs: 1_000, logger });
      const { reports, timedOut } = await converge(controller);
      const seen = lines
        .filter((line) => line.state === 'failed.backingOff')
        .map((line) => `${line.device ?? '?'}:${/\((E[A-Z]+)\)/.exec(line.message)?.[1] ?? '?'}`);
      t.false(timedOut);
      t.is(kernel.faults.armed, 0, 'the injected fault was hit');
      t.true(
        reports.every((report) => report.converged),
        JSON.stringify(reports),
      );
      t.deepEqual(await planKinds(newController(kernel, specs)), []);
      if (!global) {
        t.true(seen.length > 0 && seen.every((entry) => entry.startsWith('a:')), seen.join(' '));
        t.true(seen.includes(mode === 'hangs' ? 'a:ETIMEDOUT' : 'a:EIO'), seen.join(' '));
      }
    });
  }
}

test('a device that keeps failing is given up on after the retry limit; the others converge', async (t) => {
  const kernel = newKernel(['a', 'b']);
  const specs = new MemorySpecs();
  specs.set('a');
  specs.set('b');
  kernel.failNext('create', { device: 'a', code: 'EIO', times: Infinity });
  const { reports, timedOut } = await converge(newController(kernel, specs, { retryLimit: 2 }));
  t.false(timedOut);
  t.like(reports[0], { name: 'a', state: 'failed.backingOff', failures: 3, converged: false });
  t.like(reports[0]?.failure, { during: 'creating', code: 'EIO' });
  t.like(reports[1], { name: 'b', state: 'active', converged: true });
});

test('an effect never acts on a device that turned foreign under it', async (t) => {
  // The plan was made while the name was ours (or free); by the time each effect runs, a
  // foreign device holds it. Only the effect's own ownership check stands in the way.
  const table = { name: 'a', uuid: 'DMREMAP-a', table: tableOf('a') };
  const stale: Operation[] = [
    { kind: 'reload', table, changes: ['readRetries'], reason: 'stale' },
    { kind: 'resume', reason: 'stale' },
    { kind: 'clearInactive', reason: 'stale' },
    { kind: 'remove', reason: 'stale' },
    { kind: 'rollbackCreate', reason: 'stale' },
    { kind: 'completeCreate', table, reason: 'stale' },
    { kind: 'create', table, reason: 'stale' },
  ];
  for (const operation of stale) {
    const kernel = newKernel(['a']);
    kernel.addForeignDevice('a', 'CRYPT-123', '0 2048 zero');
    await kernel.suspend('a').catch(() => undefined);
    // A kernel that would do whatever it is asked: the effect's check is the only guard left.
    const asked: string[] = [];
    const obliging: KernelAdapter = {
      observe: (signal) => kernel.observe(signal),
      inspectBlockDevice: (path, signal) => kernel.inspectBlockDevice(path, signal),
      readSpareMetadata: (path, signal) => kernel.readSpareMetadata(path, signal),
      message: () => Promise.resolve(''),
      loadModule: () => Promise.resolve(),
      create: (device) => Promise.resolve(void asked.push(`create ${device.name}`)),
      load: (device) => Promise.resolve(void asked.push(`load ${device.name}`)),
      suspend: (name) => Promise.resolve(void asked.push(`suspend ${name}`)),
      resume: (name) => Promise.resolve(void asked.push(`resume ${name}`)),
      clearInactive: (name) => Promise.resolve(void asked.push(`clear ${name}`)),
      remove: (name) => Promise.resolve(void asked.push(`remove ${name}`)),
      setUuid: (name) => Promise.resolve(void asked.push(`setUuid ${name}`)),
    };
    let planned = false;
    const machine = provideKernelEffects(
      new KernelSession(obliging),
      () => {
        if (planned) return Promise.reject(new Error('only the stale plan is under test'));
        planned = true;
        return Promise.resolve({ name: 'a', operations: [operation], present: true, declared: true });
      },
      { timeoutMs: TIMEOUT_MS },
    );
    const actor = createActor(machine, { input: { name: 'a' } });
    actor.start();
    const settled = await waitFor(actor, (snapshot) => snapshot.hasTag('settled'), { timeout: TIMEOUT_MS });
    actor.stop();
    t.is(settled.context.lastFailure?.code, 'ENOTOWNED', operation.kind);
    t.deepEqual(asked, [], `${operation.kind} acted on the foreign device`);
  }
});

test('a plan to resume never swaps in an inactive table that appeared after it was made', async (t) => {
  const kernel = newKernel(['a']);
  const spec = deviceSpec('a');
  await kernel.create({ name: 'a', uuid: 'DMREMAP-a', table: tableOf('a') });
  await kernel.load({ name: 'a', uuid: 'DMREMAP-a', table: tableOf('a', 7) });
  await kernel.suspend('a');
  const plans: DevicePlan[] = [
    {
      name: 'a',
      operations: [{ kind: 'resume', reason: 'planned before the load' }],
      present: true,
      declared: true,
    },
  ];
  const machine = provideKernelEffects(
    new KernelSession(kernel),
    () => Promise.resolve(plans.shift() ?? { name: 'a', operations: [], present: true, declared: true }),
    { timeoutMs: TIMEOUT_MS },
  );
  const actor = createActor(machine, { input: { name: spec.name } });
  actor.start();
  await waitFor(actor, (snapshot) => snapshot.hasTag('settled'), { timeout: TIMEOUT_MS });
  actor.stop();
  const device = (await kernel.observe()).devices[0];
  t.like(device, { suspended: true, hasInactiveTable: true });
  t.is(device?.remap?.table.readRetries, 3);
  t.is(kernel.calls.resume, 0);
});
