/**
 * The device machine running its invoked actors, with every kernel effect
 * replaced through `createDeviceMachine(clock).provide` by a recording stub.
 */
import test from 'ava';
import { createActor, fromPromise, waitFor } from 'xstate';
import type { Actor } from 'xstate';
import { createDeviceMachine } from '../../reconciler/device/machine.js';
import type { DeviceMachine, NameInput, OperationInput } from '../../reconciler/device/machine.js';
import type { DevicePlan, Operation } from '../../reconciler/controller/plan.js';

const table = {
  name: 'a',
  uuid: 'DMREMAP-a',
  table: '0 8 remap /dev/x /dev/y 4 block_size 8 read_retries 3',
};
const BACKOFF = { baseMs: 1_000, maxMs: 4_000 };

const planOf = (operations: Operation[], present = true): DevicePlan => ({
  name: 'a',
  operations,
  present,
  declared: true,
});

/** A clock the test moves by hand: retry deadlines are then exact, whatever the machine's load. */
const FROZEN_NOW = 1_000_000;
const clock = { now: () => FROZEN_NOW };

/** Effects that record their calls; `plans` are returned by successive observations (the last one repeats). */
function stubbedMachine(plans: DevicePlan[], failing: Partial<Record<string, Error>> = {}) {
  const calls: string[] = [];
  const inputs: OperationInput[] = [];
  let observations = 0;
  const effect = (name: string) =>
    fromPromise<void, OperationInput>(({ input }) => {
      calls.push(name);
      inputs.push(input);
      const failure = failing[name];
      return failure ? Promise.reject(failure) : Promise.resolve();
    });
  const machine = createDeviceMachine(clock).provide({
    actors: {
      planDevice: fromPromise<DevicePlan, NameInput>(() => {
        const plan = plans[Math.min(observations, plans.length - 1)];
        observations += 1;
        return plan ? Promise.resolve(plan) : Promise.reject(new Error('no plan'));
      }),
      loadModule: effect('loadModule'),
      createDevice: effect('createDevice'),
      completeCreate: effect('completeCreate'),
      loadTable: effect('loadTable'),
      suspendDevice: effect('suspendDevice'),
      resumeDevice: effect('resumeDevice'),
      clearInactive: effect('clearInactive'),
      presuspendDevice: effect('presuspendDevice'),
      removeDevice: effect('removeDevice'),
    },
  });
  return { machine, calls, inputs, observations: () => observations };
}

const settled = (actor: Actor<DeviceMachine>) => waitFor(actor, (snapshot) => snapshot.hasTag('settled'));

test('a missing device is created, re-observed, and rests in active', async (t) => {
  const createOperation: Operation = { kind: 'create', table, reason: 'declared' };
  const { machine, calls, inputs } = stubbedMachine([planOf([createOperation], false), planOf([])]);
  const actor = createActor(machine, { input: { name: 'a', backoff: BACKOFF } }).start();
  await settled(actor);
  t.true(actor.getSnapshot().matches('active'));
  t.deepEqual(calls, ['createDevice']);
  t.deepEqual(inputs, [{ name: 'a', operation: createOperation }]);
});

test('a reload loads, suspends and resumes in that order', async (t) => {
  const reload: Operation = { kind: 'reload', table, changes: ['readRetries'], reason: 'drift' };
  const { machine, calls } = stubbedMachine([planOf([reload]), planOf([])]);
  const actor = createActor(machine, { input: { name: 'a' } }).start();
  await settled(actor);
  t.deepEqual(calls, ['loadTable', 'suspendDevice', 'resumeDevice']);
  t.true(actor.getSnapshot().matches('active'));
});

test('the module is loaded first, then the create follows in the same round', async (t) => {
  const { machine, calls } = stubbedMachine([
    planOf(
      [
        { kind: 'loadModule', reason: 'missing' },
        { kind: 'create', table, reason: 'declared' },
      ],
      false,
    ),
    planOf([{ kind: 'create', table, reason: 'declared' }], false),
    planOf([]),
  ]);
  const actor = createActor(machine, { input: { name: 'a' } }).start();
  await settled(actor);
  t.deepEqual(calls, ['loadModule', 'createDevice']);
});

test('a failed effect backs off with the deadline kept in context, doubling up to the cap', async (t) => {
  const create: Operation = { kind: 'create', table, reason: 'declared' };
  const error = Object.assign(new Error('device busy'), { code: 'EBUSY' });
  const { machine, calls } = stubbedMachine([planOf([create], false)], { createDevice: error });
  const actor = createActor(machine, { input: { name: 'a', backoff: BACKOFF } }).start();
  await settled(actor);
  const first = actor.getSnapshot();
  t.true(first.matches({ failed: 'backingOff' }));
  t.like(first.context.lastFailure, { during: 'creating', code: 'EBUSY', message: 'device busy' });
  const firstDeadline = first.context.nextAttemptAt ?? 0;
  t.is(firstDeadline - FROZEN_NOW, 1_000);

  actor.send({ type: 'device.reconcile', now: firstDeadline - 1 });
  t.true(actor.getSnapshot().matches({ failed: 'backingOff' }), 'a retry before the deadline is ignored');
  t.is(calls.length, 1);

  for (const expectedDelay of [2_000, 4_000, 4_000]) {
    actor.send({ type: 'device.reconcile', now: actor.getSnapshot().context.nextAttemptAt ?? 0 });
    await settled(actor);
    t.is((actor.getSnapshot().context.nextAttemptAt ?? 0) - FROZEN_NOW, expectedDelay);
  }
  t.is(calls.length, 4);
  t.is(actor.getSnapshot().context.failures, 4);
});

test('a spec change retries a backed-off device at once and forgets its failures', async (t) => {
  const { machine, calls } = stubbedMachine([planOf([{ kind: 'resume', reason: 'suspended' }])], {
    resumeDevice: new Error('nope'),
  });
  const actor = createActor(machine, { input: { name: 'a', backoff: BACKOFF } }).start();
  await settled(actor);
  actor.send({ type: 'device.specChanged', now: 0 });
  await settled(actor);
  t.is(calls.length, 2);
  t.is(actor.getSnapshot().context.failures, 1, 'the count restarted from the spec change');
});

test('a refusal is never retried on a timer, but the next pass re-evaluates it', async (t) => {
  const refuse: Operation = { kind: 'refuse', code: 'wouldStrandData', reason: 'spare holds data' };
  const { machine, observations } = stubbedMachine([planOf([refuse]), planOf([refuse]), planOf([])]);
  const actor = createActor(machine, { input: { name: 'a' } }).start();
  await settled(actor);
  t.true(actor.getSnapshot().matches({ failed: 'refused' }));
  t.is(actor.getSnapshot().context.nextAttemptAt, undefined, 'no retry deadline');
  actor.send({ type: 'device.reconcile', now: 0 });
  await settled(actor);
  t.true(actor.getSnapshot().matches({ failed: 'refused' }), 'still refused while the reason holds');
  actor.send({ type: 'device.reconcile', now: 0 });
  await settled(actor);
  t.true(actor.getSnapshot().matches('active'), 'the reason went away (say, the data was migrated)');
  t.is(observations(), 3);
});

test('a reconcile that arrives while observing is honoured once the machine rests', async (t) => {
  const { machine, observations } = stubbedMachine([planOf([])]);
  const actor = createActor(machine, { input: { name: 'a' } }).start();
  actor.send({ type: 'device.reconcile', now: 0 });
  await settled(actor);
  t.is(observations(), 2);
});

test('a persisted snapshot keeps the retry deadline and the failure', async (t) => {
  const { machine } = stubbedMachine([planOf([{ kind: 'create', table, reason: 'r' }], false)], {
    createDevice: new Error('EIO'),
  });
  const actor = createActor(machine, { input: { name: 'a', backoff: BACKOFF } }).start();
  await settled(actor);
  const persisted = actor.getPersistedSnapshot();
  actor.stop();
  const deadline = actor.getSnapshot().context.nextAttemptAt;

  const restored = createActor(machine, { input: { name: 'a' }, snapshot: persisted }).start();
  t.true(restored.getSnapshot().matches({ failed: 'backingOff' }));
  t.is(restored.getSnapshot().context.nextAttemptAt, deadline);
  restored.send({ type: 'device.reconcile', now: (deadline ?? 0) - 1 });
  t.true(restored.getSnapshot().matches({ failed: 'backingOff' }));
});

test('stopping the actor aborts the signal of the effect in flight', async (t) => {
  let aborted = false;
  let started: () => void = () => undefined;
  const running = new Promise<void>((resolve) => (started = resolve));
  const machine = createDeviceMachine().provide({
    actors: {
      planDevice: fromPromise<DevicePlan, NameInput>(() =>
        Promise.resolve(planOf([{ kind: 'remove', reason: 'r' }])),
      ),
      presuspendDevice: fromPromise<void, OperationInput>(() => Promise.resolve()),
      removeDevice: fromPromise<void, OperationInput>(
        ({ signal }) =>
          new Promise<void>((_resolve, reject) => {
            started();
            signal.addEventListener('abort', () => {
              aborted = true;
              reject(new Error('aborted'));
            });
          }),
      ),
    },
  });
  const actor = createActor(machine, { input: { name: 'a' } }).start();
  await running;
  t.true(actor.getSnapshot().matches('removing'));
  actor.stop();
  t.true(aborted);
});

test('a failed resume is retried at the base delay: a suspended device must not wait minutes', async (t) => {
  const { machine } = stubbedMachine([planOf([{ kind: 'resume', reason: 'left suspended' }])], {
    resumeDevice: new Error('EIO'),
  });
  const actor = createActor(machine, { input: { name: 'a', backoff: BACKOFF } }).start();
  for (let attempt = 0; attempt < 4; attempt += 1) {
    await settled(actor);
    const delay = (actor.getSnapshot().context.nextAttemptAt ?? 0) - FROZEN_NOW;
    t.is(delay, BACKOFF.baseMs, `attempt ${attempt}`);
    actor.send({ type: 'device.reconcile', now: actor.getSnapshot().context.nextAttemptAt ?? 0 });
  }
  t.is(actor.getSnapshot().context.failures, 4);
});
