/**
 * Model-based tests of the device lifecycle: walk every transition the
 * machine can take (xstate/graph), feeding it every shape of plan the planner
 * can return and every failure an effect can raise, with no kernel at all.
 */
import test from 'ava';
import { getAdjacencyMap, getShortestPaths, getSimplePaths } from 'xstate/graph';
import type { AdjacencyValue } from 'xstate/graph';
import type { SnapshotFrom } from 'xstate';
import { deviceMachine, MAX_ACTIONS_PER_ROUND } from '../../reconciler/device/machine.js';
import type { DeviceEvent } from '../../reconciler/device/machine.js';
import type { DevicePlan, Operation } from '../../reconciler/controller/plan.js';

type Snapshot = SnapshotFrom<typeof deviceMachine>;

const table = {
  name: 'a',
  uuid: 'DMREMAP-a',
  table: '0 8 remap /dev/x /dev/y 4 block_size 8 read_retries 3',
};
const OPERATIONS: Operation[] = [
  { kind: 'loadModule', reason: 'r' },
  { kind: 'create', table, reason: 'r' },
  { kind: 'completeCreate', table, reason: 'r' },
  { kind: 'rollbackCreate', reason: 'r' },
  { kind: 'reload', table, changes: ['readRetries'], reason: 'r' },
  { kind: 'resume', reason: 'r' },
  { kind: 'clearInactive', reason: 'r' },
  { kind: 'remove', reason: 'r' },
  { kind: 'refuse', code: 'wouldStrandData', reason: 'r' },
  { kind: 'hold', reason: 'r' },
  { kind: 'skip', reason: 'r' },
  { kind: 'orphan', reason: 'r' },
  { kind: 'blocked', code: 'EBUSY', reason: 'r' },
  { kind: 'wait', reason: 'r' },
];

const plans: DevicePlan[] = [
  ...OPERATIONS.map((operation) => ({ name: 'a', operations: [operation], present: true, declared: true })),
  { name: 'a', operations: [], present: true, declared: true },
  { name: 'a', operations: [], present: false, declared: true },
  { name: 'a', operations: [], present: false, declared: false },
];

/** Internal events an invoked actor produces, fed to the model as if the actor had settled. */
type ModelEvent = DeviceEvent | { type: string; output?: unknown; error?: unknown };

const FAR_FUTURE = Number.MAX_SAFE_INTEGER;
const ACTOR_IDS = ['planDevice', 'effect', 'loadTable', 'suspendDevice', 'resumeDevice'];

function eventsFor(snapshot: Snapshot): ModelEvent[] {
  const events: ModelEvent[] = [
    { type: 'device.reconcile', now: 0 },
    { type: 'device.reconcile', now: FAR_FUTURE },
    { type: 'device.specChanged', now: 0 },
  ];
  if (snapshot.matches('observing')) {
    events.push(...plans.map((output) => ({ type: 'xstate.done.actor.planDevice', output })));
  }
  for (const id of ACTOR_IDS) {
    if (id !== 'planDevice' || snapshot.matches('observing')) {
      events.push({
        type: `xstate.error.actor.${id}`,
        error: Object.assign(new Error('boom'), { code: 'EIO' }),
      });
    }
    if (id !== 'planDevice') events.push({ type: `xstate.done.actor.${id}`, output: undefined });
  }
  return events;
}

const stateKey = (snapshot: Snapshot) => JSON.stringify(snapshot.value);
/** States plus the counters that change which transitions are enabled. */
const serializeState = (snapshot: Snapshot) =>
  JSON.stringify([
    snapshot.value,
    snapshot.context.actionsThisRound,
    snapshot.context.failures > 0,
    snapshot.context.lastFailure?.code,
    snapshot.context.reconcileRequested,
    snapshot.context.specChangedMeanwhile,
  ]);
const traversal = {
  input: { name: 'a' },
  events: eventsFor as (snapshot: Snapshot) => DeviceEvent[],
  serializeState,
};

const EXPECTED_STATES = [
  'observing',
  'loadingModule',
  'creating',
  'completingCreate',
  'rollingBackCreate',
  { updating: 'loadingTable' },
  { updating: 'suspending' },
  { updating: 'resuming' },
  'resuming',
  'clearingInactive',
  'presuspending',
  'removing',
  'active',
  'absent',
  'paused',
  'held',
  'orphaned',
  'removalBlocked',
  'waitingForDevices',
  'removed',
  { failed: 'backingOff' },
  { failed: 'refused' },
].map((value) => JSON.stringify(value));

/** Shortest paths to every distinct (state, counters) node: one traversal shared by the tests below. */
const shortestPaths = getShortestPaths(deviceMachine, traversal);

test('every lifecycle state is reachable, and nothing else is', (t) => {
  const reached = new Set(shortestPaths.map((path) => stateKey(path.state)));
  t.deepEqual([...reached].sort(), [...EXPECTED_STATES].sort());
});

test('only a plan that asks to remove leads into a removal; removing only after presuspending', (t) => {
  const adjacency = getAdjacencyMap(deviceMachine, traversal);
  let entries = 0;
  for (const { state, transitions } of Object.values(adjacency) as AdjacencyValue<Snapshot, ModelEvent>[]) {
    for (const { event, state: next } of Object.values(transitions) as {
      event: ModelEvent;
      state: Snapshot;
    }[]) {
      if (next.matches('removing') && !state.matches('removing')) {
        t.true(state.matches('presuspending'), `${stateKey(state)} --${event.type}--> ${stateKey(next)}`);
        continue;
      }
      const entersRemoval =
        (next.matches('presuspending') && !state.matches('presuspending')) ||
        (next.matches('rollingBackCreate') && !state.matches('rollingBackCreate'));
      if (!entersRemoval) continue;
      entries += 1;
      const output =
        event.type === 'xstate.done.actor.planDevice' ? (event as { output: DevicePlan }).output : undefined;
      t.true(
        output?.operations[0]?.kind === 'remove' || output?.operations[0]?.kind === 'rollbackCreate',
        `${stateKey(state)} --${event.type}--> ${stateKey(next)}`,
      );
    }
  }
  t.true(entries > 0, 'the model never reached a removal at all');
});

test('from active, every simple path to a removal passes an explicit remove plan', (t) => {
  const toActive = shortestPaths.find((path) => path.state.matches('active'));
  if (!toActive) return t.fail('active is unreachable');
  const paths = getSimplePaths(deviceMachine, {
    ...traversal,
    serializeState: stateKey,
    fromState: toActive.state,
    toState: (snapshot) => snapshot.matches('presuspending'),
  });
  t.true(paths.length > 0);
  for (const path of paths) {
    const last = path.steps.at(-1);
    const output = (last?.event as { output?: DevicePlan } | undefined)?.output;
    t.is(output?.operations[0]?.kind, 'remove', path.steps.map((step) => step.event.type).join(' → '));
  }
});

test('settled states carry the settled tag; busy states do not', (t) => {
  const settled = new Set([
    'active',
    'absent',
    'paused',
    'held',
    'orphaned',
    'removalBlocked',
    'waitingForDevices',
    'removed',
    JSON.stringify({ failed: 'backingOff' }),
    JSON.stringify({ failed: 'refused' }),
  ]);
  for (const path of shortestPaths) {
    const key = stateKey(path.state);
    const expected = settled.has(key) || settled.has(JSON.parse(key) as string);
    t.is(path.state.hasTag('settled'), expected, key);
  }
});

test(`a round that keeps planning actions fails after ${MAX_ACTIONS_PER_ROUND} operations`, (t) => {
  const path = shortestPaths.find(
    ({ state }) =>
      state.matches({ failed: 'backingOff' }) && state.context.lastFailure?.code === 'ENOTCONVERGED',
  );
  if (!path) return t.fail('the round limit is unreachable');
  const effects = path.steps.filter((step) => (step.event as ModelEvent).type === 'xstate.done.actor.effect');
  t.is(effects.length, MAX_ACTIONS_PER_ROUND);
});
