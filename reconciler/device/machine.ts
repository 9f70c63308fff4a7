/**
 * The lifecycle of one declared device, as an xstate v5 machine.
 *
 * The machine never decides from the event that woke it: every round starts
 * in `observing`, whose actor re-reads the spec and the kernel and returns the
 * device's plan (controller/plan.ts). `deciding` routes on the plan's first
 * operation; an action state runs that one operation through an invoked
 * actor and comes back to `observing`, until the plan holds no action and the
 * machine rests in a settled state. Kernel effects live only in the invoked
 * actors, which the controller provides (`deviceMachine.provide`) and which
 * re-observe before acting, because after a restart an invocation may run a
 * second time.
 *
 * Failures back off exponentially. The retry deadline is `nextAttemptAt` in
 * context rather than an `after` timer, so a persisted snapshot keeps it; the
 * controller sends `device.reconcile` once the deadline has passed.
 */
import { assign, fromPromise, setup } from 'xstate';
import type { DesiredTable } from '../kernel/adapter.js';
import type { DevicePlan, Operation, OperationKind } from '../controller/plan.js';
import { DAEMON_BACKOFF, retryDelayMs } from './backoff.js';
import type { BackoffPolicy } from './backoff.js';

/** Actions one round may take before the device counts as not converging (a plan that keeps asking again). */
export const MAX_ACTIONS_PER_ROUND = 8;

export interface DeviceFailure {
  /** The state whose actor failed, e.g. "creating" or "updating.suspending". */
  during: string;
  message: string;
  /** KernelError code when there is one ('EBUSY', 'ETIMEDOUT', ...). */
  code: string;
}

export interface DeviceContext {
  name: string;
  backoff: BackoffPolicy;
  /** The plan of the last observation. */
  plan: DevicePlan | undefined;
  /** The operation being carried out, or the non-action the device rests on. */
  operation: Operation | undefined;
  /** Actions taken since the machine last rested. */
  actionsThisRound: number;
  /** Consecutive failures; reset when the device settles. */
  failures: number;
  lastFailure: DeviceFailure | undefined;
  /** Epoch milliseconds before which a failed device is not retried (kept in context to survive snapshots). */
  nextAttemptAt: number | undefined;
  /** A reconcile or spec change arrived while busy; honoured as soon as the machine rests. */
  reconcileRequested: boolean;
  specChangedMeanwhile: boolean;
}

export interface DeviceInput {
  name: string;
  backoff?: BackoffPolicy;
}

export type DeviceEvent =
  /** Re-observe and converge (a watch event, a resync tick, or a due retry). `now` is epoch ms. */
  | { type: 'device.reconcile'; now: number }
  /** The declared spec changed: retry at once, even after a backoff or a refusal. */
  | { type: 'device.specChanged'; now: number };

export interface NameInput {
  name: string;
}
/** What every effect actor receives: the device and the planned operation it carries out. */
export interface OperationInput {
  name: string;
  operation: Operation;
}

function notProvided(effect: string): () => Promise<never> {
  return () => Promise.reject(new Error(`${effect}: no kernel effect provided (use deviceMachine.provide)`));
}

/** The table a create, completeCreate or reload operation carries. */
export function tableOf(operation: Operation): DesiredTable {
  if ('table' in operation) return operation.table;
  throw new Error(`operation ${operation.kind} carries no table`);
}

function operationInput({ context }: { context: DeviceContext }): OperationInput {
  if (!context.operation) throw new Error(`${context.name}: no operation planned`);
  return { name: context.name, operation: context.operation };
}

function failureFrom(during: string, error: unknown): DeviceFailure {
  const message = error instanceof Error ? error.message : String(error);
  const code =
    typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
      ? error.code
      : 'EIO';
  return { during, message, code };
}

/** Settled states a device rests in until the next event; the controller waits for these. */
const SETTLED = 'settled';
/** Settled states where the device is not as declared (apply reports them as failures). */
const UNCONVERGED = 'unconverged';

/** Where the machine reads the time: the wall clock, or a test's own. */
export interface Clock {
  now(): number;
}

export const SYSTEM_CLOCK: Clock = { now: () => Date.now() };

/** The device machine, with retry deadlines taken from `clock`. */
export function createDeviceMachine(clock: Clock = SYSTEM_CLOCK) {
  return setup({
    types: {
      context: {} as DeviceContext,
      events: {} as DeviceEvent,
      input: {} as DeviceInput,
      tags: {} as typeof SETTLED | typeof UNCONVERGED,
    },
    actors: {
      planDevice: fromPromise<DevicePlan, NameInput>(notProvided('planDevice')),
      loadModule: fromPromise<void, OperationInput>(notProvided('loadModule')),
      createDevice: fromPromise<void, OperationInput>(notProvided('createDevice')),
      completeCreate: fromPromise<void, OperationInput>(notProvided('completeCreate')),
      loadTable: fromPromise<void, OperationInput>(notProvided('loadTable')),
      suspendDevice: fromPromise<void, OperationInput>(notProvided('suspendDevice')),
      resumeDevice: fromPromise<void, OperationInput>(notProvided('resumeDevice')),
      clearInactive: fromPromise<void, OperationInput>(notProvided('clearInactive')),
      presuspendDevice: fromPromise<void, OperationInput>(notProvided('presuspendDevice')),
      removeDevice: fromPromise<void, OperationInput>(notProvided('removeDevice')),
    },
    guards: {
      nextOperationIs: ({ context }, params: { kind: OperationKind }) =>
        context.operation?.kind === params.kind,
      roundTooLong: ({ context }) => context.actionsThisRound >= MAX_ACTIONS_PER_ROUND,
      convergedPresent: ({ context }) => context.operation === undefined && context.plan?.present === true,
      convergedDeclared: ({ context }) => context.operation === undefined && context.plan?.declared === true,
      convergedUndeclared: ({ context }) => context.operation === undefined,
      retryDue: ({ context, event }) =>
        context.nextAttemptAt === undefined || event.now >= context.nextAttemptAt,
      workRequested: ({ context }) => context.reconcileRequested || context.specChangedMeanwhile,
      specChangedMeanwhile: ({ context }) => context.specChangedMeanwhile,
    },
    actions: {
      startRound: assign({ reconcileRequested: false, specChangedMeanwhile: false }),
      noteReconcileRequested: assign({ reconcileRequested: true }),
      noteSpecChanged: assign({ specChangedMeanwhile: true }),
      countAction: assign({ actionsThisRound: ({ context }) => context.actionsThisRound + 1 }),
      rest: assign({ actionsThisRound: 0, failures: 0, lastFailure: undefined, nextAttemptAt: undefined }),
      forgetFailures: assign({ failures: 0, nextAttemptAt: undefined }),
      // A refusal is its own outcome, reported by its operation's reason: no failure before it stays.
      recordRefusal: assign({
        failures: 0,
        nextAttemptAt: undefined,
        actionsThisRound: 0,
        lastFailure: undefined,
      }),
      recordFailure: assign(({ context }, params: { failure: DeviceFailure }) => {
        const failures = context.failures + 1;
        // A failed resume leaves the device suspended, with all its I/O frozen:
        // retry it at the base delay instead of backing off towards minutes.
        const delay = params.failure.during.endsWith('resuming')
          ? context.backoff.baseMs
          : retryDelayMs(failures, context.backoff);
        return {
          failures,
          lastFailure: params.failure,
          actionsThisRound: 0,
          nextAttemptAt: clock.now() + delay,
        };
      }),
    },
  }).createMachine({
    id: 'device',
    context: ({ input }) => ({
      name: input.name,
      backoff: input.backoff ?? DAEMON_BACKOFF,
      plan: undefined,
      operation: undefined,
      actionsThisRound: 0,
      failures: 0,
      lastFailure: undefined,
      nextAttemptAt: undefined,
      reconcileRequested: false,
      specChangedMeanwhile: false,
    }),
    initial: 'observing',
    // Busy states remember that work was asked for; settled states act on it.
    on: {
      'device.reconcile': { actions: 'noteReconcileRequested' },
      'device.specChanged': { actions: 'noteSpecChanged' },
    },
    states: {
      observing: {
        entry: 'startRound',
        invoke: {
          id: 'planDevice',
          src: 'planDevice',
          input: ({ context }) => ({ name: context.name }),
          onDone: {
            target: 'deciding',
            actions: assign({
              plan: ({ event }) => event.output,
              operation: ({ event }) => event.output.operations[0],
            }),
          },
          onError: {
            target: 'failed',
            actions: {
              type: 'recordFailure',
              params: ({ event }) => ({ failure: failureFrom('observing', event.error) }),
            },
          },
        },
      },
      deciding: {
        always: [
          {
            guard: 'roundTooLong',
            target: 'failed',
            actions: {
              type: 'recordFailure',
              params: ({ context }) => ({
                failure: {
                  during: 'deciding',
                  code: 'ENOTCONVERGED',
                  message: `still planning ${context.operation?.kind ?? 'nothing'} after ${MAX_ACTIONS_PER_ROUND} operations`,
                },
              }),
            },
          },
          { guard: { type: 'nextOperationIs', params: { kind: 'loadModule' } }, target: 'loadingModule' },
          { guard: { type: 'nextOperationIs', params: { kind: 'create' } }, target: 'creating' },
          {
            guard: { type: 'nextOperationIs', params: { kind: 'completeCreate' } },
            target: 'completingCreate',
          },
          {
            guard: { type: 'nextOperationIs', params: { kind: 'rollbackCreate' } },
            target: 'rollingBackCreate',
          },
          { guard: { type: 'nextOperationIs', params: { kind: 'reload' } }, target: 'updating' },
          { guard: { type: 'nextOperationIs', params: { kind: 'resume' } }, target: 'resuming' },
          {
            guard: { type: 'nextOperationIs', params: { kind: 'clearInactive' } },
            target: 'clearingInactive',
          },
          { guard: { type: 'nextOperationIs', params: { kind: 'remove' } }, target: 'presuspending' },
          {
            guard: { type: 'nextOperationIs', params: { kind: 'refuse' } },
            target: 'failed.refused',
            actions: 'recordRefusal',
          },
          { guard: { type: 'nextOperationIs', params: { kind: 'hold' } }, target: 'held', actions: 'rest' },
          { guard: { type: 'nextOperationIs', params: { kind: 'skip' } }, target: 'paused', actions: 'rest' },
          {
            guard: { type: 'nextOperationIs', params: { kind: 'orphan' } },
            target: 'orphaned',
            actions: 'rest',
          },
          {
            guard: { type: 'nextOperationIs', params: { kind: 'blocked' } },
            target: 'removalBlocked',
            actions: 'rest',
          },
          {
            guard: { type: 'nextOperationIs', params: { kind: 'wait' } },
            target: 'waitingForDevices',
            actions: 'rest',
          },
          { guard: 'convergedPresent', target: 'active', actions: 'rest' },
          { guard: 'convergedDeclared', target: 'absent', actions: 'rest' },
          { guard: 'convergedUndeclared', target: 'removed', actions: 'rest' },
        ],
      },

      loadingModule: actionState('loadModule', 'loadingModule'),
      creating: actionState('createDevice', 'creating'),
      completingCreate: actionState('completeCreate', 'completingCreate'),
      rollingBackCreate: actionState('removeDevice', 'rollingBackCreate'),
      resuming: actionState('resumeDevice', 'resuming'),
      clearingInactive: actionState('clearInactive', 'clearingInactive'),
      // Removal is two steps, so a hung suspend (I/O that cannot drain) is told apart from a hung
      // remove: suspend and read the status one last time, then remove.
      presuspending: {
        invoke: {
          id: 'effect',
          src: 'presuspendDevice',
          input: operationInput,
          onDone: 'removing',
          onError: failTo('presuspending'),
        },
      },
      removing: actionState('removeDevice', 'removing'),
      // A reload swaps tables the way device-mapper requires: load inactive → suspend → resume.
      updating: {
        initial: 'loadingTable',
        onDone: { target: 'observing', actions: 'countAction' },
        states: {
          loadingTable: {
            invoke: {
              id: 'loadTable',
              src: 'loadTable',
              input: operationInput,
              onDone: 'suspending',
              onError: failTo('updating.loadingTable'),
            },
          },
          suspending: {
            invoke: {
              id: 'suspendDevice',
              src: 'suspendDevice',
              input: operationInput,
              onDone: 'resuming',
              onError: failTo('updating.suspending'),
            },
          },
          resuming: {
            invoke: {
              id: 'resumeDevice',
              src: 'resumeDevice',
              input: operationInput,
              onDone: 'reloaded',
              onError: failTo('updating.resuming'),
            },
          },
          reloaded: { type: 'final' },
        },
      },

      active: settledState(),
      absent: settledState(),
      paused: settledState(),
      held: settledState(),
      orphaned: settledState(),
      removalBlocked: settledState(UNCONVERGED),
      waitingForDevices: settledState(UNCONVERGED),
      /** Spec gone and device removed: the controller stops this actor. */
      removed: { type: 'final', tags: [SETTLED] },

      failed: {
        initial: 'backingOff',
        tags: [SETTLED, UNCONVERGED],
        states: {
          backingOff: {
            always: { guard: 'specChangedMeanwhile', target: '#device.observing', actions: 'forgetFailures' },
            on: {
              'device.reconcile': { guard: 'retryDue', target: '#device.observing' },
              'device.specChanged': { target: '#device.observing', actions: 'forgetFailures' },
            },
          },
          /** The spec asks for something unsafe: no timed retries, only re-evaluation on the next pass. */
          refused: {
            always: { guard: 'workRequested', target: '#device.observing', actions: 'rest' },
            on: {
              // Never retried on a timer; but a resync re-checks it, since what made
              // it unsafe (data on the spare, a foreign device) can change outside the spec.
              'device.reconcile': { target: '#device.observing' },
              'device.specChanged': { target: '#device.observing', actions: 'rest' },
            },
          },
        },
      },
    },
  });
}

export const deviceMachine = createDeviceMachine();

type DeviceActorName =
  'loadModule' | 'createDevice' | 'completeCreate' | 'resumeDevice' | 'clearInactive' | 'removeDevice';

function failTo(during: string) {
  return {
    target: '#device.failed',
    actions: {
      type: 'recordFailure',
      params: ({ event }: { event: { error: unknown } }) => ({ failure: failureFrom(during, event.error) }),
    },
  } as const;
}

/** A state that carries out the current operation through one invoked actor, then re-observes. */
function actionState<const Src extends DeviceActorName>(src: Src, during: string) {
  return {
    invoke: {
      id: 'effect',
      src,
      input: operationInput,
      onDone: { target: 'observing', actions: 'countAction' },
      onError: failTo(during),
    },
  } as const;
}

function settledState(...extraTags: (typeof UNCONVERGED)[]) {
  return {
    tags: [SETTLED, ...extraTags],
    always: { guard: 'workRequested', target: 'observing' },
    on: {
      'device.reconcile': { target: 'observing' },
      'device.specChanged': { target: 'observing' },
    },
  } as const;
}

export type DeviceMachine = ReturnType<typeof createDeviceMachine>;
