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

/**
 * A kernel whose observe() stays pending until released, keeps the signal it
 * was given and, like the real adapter, fails at once when that signal aborts.
 */
function abortableKernel() {
  const signals: (AbortSignal | undefined)[] = [];
  const pending: ((observation: KernelObservation) => void)[] = [];
  const kernel = {
    observe: (signal?: AbortSignal) => {
      signals.push(signal);
      return new Promise<KernelObservation>((resolve, reject) => {
        pending.push(resolve);
        signal?.addEventListener('abort', () => reject(new Error('observation aborted')), { once: true });
      });
    },
  } as unknown as KernelAdapter;
  const releaseAll = () =>
    pending.splice(0).forEach((resolve) => resolve({ moduleLoaded: true, devices: [] }));
  return { kernel, releaseAll, signals };
}

/** Whether `promise` has settled by the time already-queued work has run. */
async function settledNow(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

test("one caller's abort rejects only its own observation; the pass goes on for the others", async (t) => {
  const gate = abortableKernel();
  const session = new KernelSession(gate.kernel);
  const first = new AbortController();
  const second = new AbortController();
  const aborted = session.observe(first.signal);
  const joined = session.observe(second.signal);
  const reason = new Error('first caller timed out');
  first.abort(reason);
  t.is(await t.throwsAsync(aborted), reason, "rejected with its own signal's reason");
  t.is(gate.signals.length, 1, 'one shared pass');
  t.false(gate.signals[0]?.aborted, 'the shared pass is not aborted while a caller still waits');
  gate.releaseAll();
  t.deepEqual(await joined, { moduleLoaded: true, devices: [] });
});

test("a caller's abort settles its promise at once, even while the kernel has not answered", async (t) => {
  const gate = gatedKernel();
  const session = new KernelSession(gate.kernel);
  const caller = new AbortController();
  const pending = session.observe(caller.signal);
  const other = session.observe();
  caller.abort(new Error('gone'));
  t.true(await settledNow(pending), 'settled without waiting for the kernel');
  await t.throwsAsync(pending, { message: 'gone' });
  gate.releaseAll();
  await other;
});

test('the shared pass is aborted once every caller has aborted, and the next caller starts a fresh one', async (t) => {
  const gate = abortableKernel();
  const session = new KernelSession(gate.kernel);
  const first = new AbortController();
  const second = new AbortController();
  const results = Promise.allSettled([session.observe(first.signal), session.observe(second.signal)]);
  first.abort();
  t.false(gate.signals[0]?.aborted);
  second.abort();
  t.true(gate.signals[0]?.aborted, 'nobody waits for it any more');
  t.deepEqual(
    (await results).map((result) => result.status),
    ['rejected', 'rejected'],
  );
  const fresh = session.observe();
  t.is(gate.signals.length, 2, 'a cancelled pass is never joined');
  t.false(gate.signals[1]?.aborted);
  gate.releaseAll();
  await fresh;
});

test('an already aborted signal rejects at once and starts no pass', async (t) => {
  const gate = abortableKernel();
  const session = new KernelSession(gate.kernel);
  const reason = new Error('aborted before asking');
  await t.throwsAsync(session.observe(AbortSignal.abort(reason)), { is: reason });
  t.is(gate.signals.length, 0);
});
