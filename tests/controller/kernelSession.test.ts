import test from 'ava';
import { KernelSession } from '../../reconciler/controller/kernelSession.js';
import type { KernelAdapter, KernelObservation } from '../../reconciler/kernel/adapter.js';

/** A kernel whose observe() calls stay pending until the test releases them, counting each pass. */
function gatedKernel() {
  const pending: ((observation: KernelObservation) => void)[] = [];
  let observes = 0;
  let mutations = 0;
  const kernel = {
    observe: () => {
      observes += 1;
      return new Promise<KernelObservation>((resolve) => pending.push(resolve));
    },
    resume: () => {
      mutations += 1;
      return Promise.resolve();
    },
  } as unknown as KernelAdapter;
  const releaseAll = () =>
    pending.splice(0).forEach((resolve) => resolve({ moduleLoaded: true, devices: [] }));
  return { kernel, releaseAll, observes: () => observes, mutations: () => mutations };
}

test('concurrent observers share one kernel pass', async (t) => {
  const gate = gatedKernel();
  const session = new KernelSession(gate.kernel);
  const all = Promise.all([session.observe(), session.observe(), session.observe()]);
  gate.releaseAll();
  await all;
  t.is(gate.observes(), 1);
});

test('an observer never joins a pass that started before a mutation', async (t) => {
  const gate = gatedKernel();
  const session = new KernelSession(gate.kernel);
  const stale = session.observe();
  await session.resume('a');
  const fresh = session.observe();
  gate.releaseAll();
  await Promise.all([stale, fresh]);
  t.is(gate.observes(), 2);
  t.is(gate.mutations(), 1);
});

test('a new pass starts once the previous one has finished', async (t) => {
  const gate = gatedKernel();
  const session = new KernelSession(gate.kernel);
  const first = session.observe();
  gate.releaseAll();
  await first;
  const second = session.observe();
  gate.releaseAll();
  await second;
  t.is(gate.observes(), 2);
});
