/**
 * The kernel effects behind the device machine's invoked actors. Each one
 * re-observes before acting and does nothing when the kernel already shows
 * the result, because a crash or restart can run the same step twice; and
 * each checks ownership itself rather than trusting a plan made moments ago.
 */
import { fromPromise } from 'xstate';
import { KernelError } from '../kernel/adapter.js';
import type { ObservedDevice, RemapStatus } from '../kernel/adapter.js';
import { notOwnedError, timedOutError } from '../kernel/errors.js';
import type { DevicePlan } from './plan.js';
import { createDeviceMachine, tableOf } from '../device/machine.js';
import type { Clock, NameInput, OperationInput } from '../device/machine.js';
import type { KernelSession } from './kernelSession.js';

/** Plans one device from fresh observations (the controller supplies the specs). */
export type DevicePlanner = (name: string, signal: AbortSignal) => Promise<DevicePlan>;

/** Called after each kernel step; lets a test hook stop the process at a chosen point. */
export type StepHook = (step: string, device: string) => Promise<void>;

export interface EffectOptions {
  /** Upper bound of one effect (observe included); a hung dmsetup must not wedge its device forever. */
  timeoutMs: number;
  afterStep?: StepHook;
  /** Told the status read after a device was suspended for removal (undefined when unreadable). */
  presuspended?: (name: string, status: RemapStatus | undefined) => Promise<void>;
  /** Where retry deadlines are read from (default: the wall clock). */
  clock?: Clock;
}

/**
 * Run `work` with a signal that aborts when the actor stops or `timeoutMs`
 * passes; the race makes the timeout hold even if a call ignores its signal.
 */
export function withTimeout<T>(
  what: string,
  signal: AbortSignal,
  timeoutMs: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const abortFromParent = () => controller.abort(signal.reason);
  signal.addEventListener('abort', abortFromParent, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const error = timedOutError(what, undefined, timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  return Promise.race([work(controller.signal), timedOut]).finally(() => {
    clearTimeout(timer);
    signal.removeEventListener('abort', abortFromParent);
  });
}

export function provideKernelEffects(
  session: KernelSession,
  planDevice: DevicePlanner,
  options: EffectOptions,
) {
  const afterStep = options.afterStep;
  const find = async (name: string, signal: AbortSignal): Promise<ObservedDevice | undefined> => {
    const observation = await session.observe(signal);
    const device = observation.devices.find((candidate) => candidate.name === name);
    if (device && !device.owned) throw notOwnedError('check', name, device.uuid);
    return device;
  };
  const step = async (name: string, device: string) => {
    if (afterStep) await afterStep(name, device);
  };

  const effect = (run: (input: OperationInput, signal: AbortSignal) => Promise<void>) =>
    fromPromise<void, OperationInput>(({ input, signal }) =>
      withTimeout(input.operation.kind, signal, options.timeoutMs, (bounded) => run(input, bounded)),
    );

  return createDeviceMachine(options.clock).provide({
    actors: {
      planDevice: fromPromise<DevicePlan, NameInput>(({ input, signal }) =>
        withTimeout('observe', signal, options.timeoutMs, (bounded) => planDevice(input.name, bounded)),
      ),

      loadModule: effect(async ({ name }, signal) => {
        await session.loadModule(signal);
        await step('loadModule', name);
      }),

      createDevice: effect(async ({ name, operation }, signal) => {
        // Already there (even half-made): the next plan decides what is left to do.
        if (await find(name, signal)) return;
        await session.create(tableOf(operation), signal);
        await step('create', name);
      }),

      completeCreate: effect(async ({ name, operation }, signal) => {
        const device = await find(name, signal);
        if (!device || device.hasLiveTable) return;
        await session.load(tableOf(operation), signal);
        await step('load', name);
        await session.resume(name, signal);
        await step('resume', name);
      }),

      loadTable: effect(async ({ name, operation }, signal) => {
        if (!(await find(name, signal))) throw new KernelError(`${name} disappeared`, 'load', name, 'ENXIO');
        await session.load(tableOf(operation), signal);
        await step('load', name);
      }),

      suspendDevice: effect(async ({ name }, signal) => {
        const device = await find(name, signal);
        if (!device) throw new KernelError(`${name} disappeared`, 'suspend', name, 'ENXIO');
        if (device.suspended) return;
        await session.suspend(name, signal);
        await step('suspend', name);
      }),

      resumeDevice: effect(async ({ name, operation }, signal) => {
        const device = await find(name, signal);
        if (!device || (!device.suspended && !device.hasInactiveTable)) return;
        // Only a reload resumes into an inactive table. One that appeared since a
        // plan to just resume may predate the spec: the next plan drops it first.
        if (operation.kind === 'resume' && device.hasInactiveTable) return;
        await session.resume(name, signal);
        await step('resume', name);
      }),

      clearInactive: effect(async ({ name }, signal) => {
        const device = await find(name, signal);
        if (!device?.hasInactiveTable) return;
        await session.clearInactive(name, signal);
        await step('clearInactive', name);
      }),

      presuspendDevice: effect(async ({ name }, signal) => {
        const device = await find(name, signal);
        if (!device) return;
        // An open device cannot be removed: suspending it would only freeze its users' I/O.
        if (device.openCount > 0) {
          throw new KernelError(`${name} is open (open count ${device.openCount})`, 'suspend', name, 'EBUSY');
        }
        if (!device.suspended) {
          await session.suspend(name, signal);
          await step('presuspend', name);
        }
        // In-flight I/O has drained and no move runs: these are the counts the spare keeps.
        const suspended = await find(name, signal);
        await options.presuspended?.(name, suspended?.remap?.status);
      }),

      removeDevice: effect(async ({ name }, signal) => {
        const device = await find(name, signal);
        if (!device) return;
        if (device.openCount > 0) {
          throw new KernelError(`${name} is open (open count ${device.openCount})`, 'remove', name, 'EBUSY');
        }
        await session.remove(name, signal);
        await step('remove', name);
      }),
    },
  });
}
