/** CoalescingQueue with a hand-driven scheduler: no sleeps, no timing assumptions. */
import test from 'ava';

import { CoalescingQueue } from '../../reconciler/kernel/coalesce.js';
import type { BatchRunner, ItemOutcome, Scheduler } from '../../reconciler/kernel/coalesce.js';

/** A scheduler whose timers fire only when the test says so. */
function manualScheduler() {
  const timers: { callback: () => void; delayMs: number; cancelled: boolean }[] = [];
  const scheduler: Scheduler = (callback, delayMs) => {
    const timer = { callback, delayMs, cancelled: false };
    timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  };
  const fire = () => {
    for (const timer of timers.splice(0)) if (!timer.cancelled) timer.callback();
  };
  return { scheduler, fire, timers };
}

function recordingRunner(
  outcome: (item: string) => ItemOutcome<string> = (item) => ({ ok: true, value: item }),
) {
  const batches: string[][] = [];
  const runner: BatchRunner<string, string> = (items) => {
    batches.push([...items]);
    return Promise.resolve(items.map(outcome));
  };
  return { runner, batches };
}

const abortError = (item: unknown) => new Error(`aborted ${String(item)}`);

test('calls made before the window closes share one batch and each gets its own value', async (t) => {
  const clock = manualScheduler();
  const { runner, batches } = recordingRunner((item) => ({ ok: true, value: item.toUpperCase() }));
  const queue = new CoalescingQueue(runner, { windowMs: 20, scheduler: clock.scheduler, abortError });
  const results = Promise.all([queue.submit('a'), queue.submit('b'), queue.submit('c')]);
  t.is(clock.timers.length, 1, 'one window timer for the batch');
  t.is(clock.timers[0]?.delayMs, 20);
  t.deepEqual(batches, [], 'nothing runs before the window closes');
  clock.fire();
  t.deepEqual(await results, ['A', 'B', 'C']);
  t.deepEqual(batches, [['a', 'b', 'c']]);
});

test('a call after a batch started opens a new window', async (t) => {
  const clock = manualScheduler();
  const { runner, batches } = recordingRunner();
  const queue = new CoalescingQueue(runner, { windowMs: 5, scheduler: clock.scheduler, abortError });
  const first = queue.submit('a');
  clock.fire();
  const second = queue.submit('b');
  clock.fire();
  t.deepEqual(await Promise.all([first, second]), ['a', 'b']);
  t.deepEqual(batches, [['a'], ['b']]);
});

test('one failing item rejects only its own caller', async (t) => {
  const clock = manualScheduler();
  const { runner } = recordingRunner((item) =>
    item === 'bad' ? { ok: false, error: new Error('bad table') } : { ok: true, value: item },
  );
  const queue = new CoalescingQueue(runner, { windowMs: 5, scheduler: clock.scheduler, abortError });
  const results = Promise.allSettled([queue.submit('good'), queue.submit('bad')]);
  clock.fire();
  const [good, bad] = await results;
  t.deepEqual(good, { status: 'fulfilled', value: 'good' });
  t.is(bad?.status, 'rejected');
  t.is(((bad as PromiseRejectedResult).reason as Error).message, 'bad table');
});

test('a runner that throws rejects every caller of the batch with its error', async (t) => {
  const clock = manualScheduler();
  const queue = new CoalescingQueue<string, string>(() => Promise.reject(new Error('dmsetup missing')), {
    windowMs: 5,
    scheduler: clock.scheduler,
    abortError,
  });
  const results = Promise.allSettled([queue.submit('a'), queue.submit('b')]);
  clock.fire();
  for (const result of await results) {
    t.is(result.status, 'rejected');
    t.is(((result as PromiseRejectedResult).reason as Error).message, 'dmsetup missing');
  }
});

test('a runner returning the wrong number of outcomes fails the batch instead of leaving callers waiting', async (t) => {
  const clock = manualScheduler();
  const queue = new CoalescingQueue<string, string>(
    () => Promise.resolve([{ ok: true, value: 'only one' }]),
    {
      windowMs: 5,
      scheduler: clock.scheduler,
      abortError,
    },
  );
  const results = Promise.allSettled([queue.submit('a'), queue.submit('b')]);
  clock.fire();
  for (const result of await results) t.is(result.status, 'rejected');
});

test('a caller aborted before the window closes is dropped from the batch', async (t) => {
  const clock = manualScheduler();
  const { runner, batches } = recordingRunner();
  const queue = new CoalescingQueue(runner, { windowMs: 5, scheduler: clock.scheduler, abortError });
  const controller = new AbortController();
  const kept = queue.submit('kept');
  const dropped = queue.submit('dropped', controller.signal);
  controller.abort();
  await t.throwsAsync(dropped, { message: 'aborted dropped' });
  clock.fire();
  t.is(await kept, 'kept');
  t.deepEqual(batches, [['kept']]);
});

test('an already aborted signal is refused without joining a batch', async (t) => {
  const clock = manualScheduler();
  const { runner, batches } = recordingRunner();
  const queue = new CoalescingQueue(runner, { windowMs: 5, scheduler: clock.scheduler, abortError });
  await t.throwsAsync(queue.submit('x', AbortSignal.abort()), { message: 'aborted x' });
  t.is(clock.timers.length, 0);
  t.is(queue.waiting, 0);
  t.deepEqual(batches, []);
});

test('reaching maxBatchSize starts the batch at once and cancels the window timer', async (t) => {
  const clock = manualScheduler();
  const { runner, batches } = recordingRunner();
  const queue = new CoalescingQueue(runner, {
    windowMs: 5,
    maxBatchSize: 2,
    scheduler: clock.scheduler,
    abortError,
  });
  const results = Promise.all([queue.submit('a'), queue.submit('b')]);
  t.deepEqual(await results, ['a', 'b']);
  t.deepEqual(batches, [['a', 'b']]);
  t.true(clock.timers.every((timer) => timer.cancelled));
});
