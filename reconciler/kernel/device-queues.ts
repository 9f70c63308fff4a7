/**
 * The two coalescing queues every adapter has — creates and removes — set up
 * the same way, so both adapters batch and report aborts identically.
 */
import type { DesiredTable } from './adapter.js';
import { CoalescingQueue } from './coalesce.js';
import type { BatchRunner, Scheduler } from './coalesce.js';
import { abortedError } from './errors.js';

export interface DeviceQueues {
  create: CoalescingQueue<DesiredTable, void>;
  remove: CoalescingQueue<string, void>;
}

export function deviceQueues(
  runCreates: BatchRunner<DesiredTable, void>,
  runRemoves: BatchRunner<string, void>,
  windowMs: number,
  scheduler: Scheduler | undefined,
): DeviceQueues {
  return {
    create: new CoalescingQueue(runCreates, {
      windowMs,
      scheduler,
      abortError: (item) => abortedError('create', item.name),
    }),
    remove: new CoalescingQueue(runRemoves, {
      windowMs,
      scheduler,
      abortError: (name) => abortedError('remove', name),
    }),
  };
}
