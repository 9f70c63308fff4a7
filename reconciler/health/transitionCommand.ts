/**
 * `run --on-condition-change PROGRAM`: a program run once per transition of
 * a Degraded or Failed condition, for mail or paging. It is run with execFile
 * (never a shell: the path is the program, and no argument is interpolated),
 * without arguments, one at a time in the order of the transitions, each
 * bounded by a timeout; the change is in its environment:
 *
 *   DM_REMAP_DEVICE, DM_REMAP_CONDITION (Degraded | Failed), DM_REMAP_STATUS
 *   (True | False | Unknown), DM_REMAP_REASON, DM_REMAP_MESSAGE,
 *   DM_REMAP_PREVIOUS_STATUS and DM_REMAP_PREVIOUS_REASON (empty the first
 *   time a device is seen), DM_REMAP_TIME (ISO 8601).
 *
 * A program that fails, hangs or cannot be run is logged at warning level;
 * the daemon goes on.
 */
import { execFile } from 'node:child_process';
import type { Logger } from '../log.js';
import type { ConditionChange } from './monitor.js';

export const TRANSITION_COMMAND_TIMEOUT_MS = 60_000;

export interface TransitionCommand {
  /** Queue a run for this change (never throws). */
  handle: (change: ConditionChange) => void;
  /** Resolves when every queued run has finished. */
  idle(): Promise<void>;
}

export function transitionEnvironment(change: ConditionChange): Record<string, string> {
  return {
    DM_REMAP_DEVICE: change.device,
    DM_REMAP_CONDITION: change.condition.type,
    DM_REMAP_STATUS: change.condition.status,
    DM_REMAP_REASON: change.condition.reason,
    DM_REMAP_MESSAGE: change.condition.message,
    DM_REMAP_PREVIOUS_STATUS: change.previous?.status ?? '',
    DM_REMAP_PREVIOUS_REASON: change.previous?.reason ?? '',
    DM_REMAP_TIME: change.condition.lastTransitionTime,
  };
}

export function transitionCommand(
  program: string,
  options: { logger: Logger; env: NodeJS.ProcessEnv; timeoutMs?: number },
): TransitionCommand {
  let queue: Promise<void> = Promise.resolve();
  const runOne = (change: ConditionChange) =>
    new Promise<void>((resolve) => {
      execFile(
        program,
        [],
        {
          env: { ...options.env, ...transitionEnvironment(change) },
          timeout: options.timeoutMs ?? TRANSITION_COMMAND_TIMEOUT_MS,
          killSignal: 'SIGKILL',
        },
        (error, _stdout, stderr) => {
          if (error) {
            const why = error.killed ? 'timed out' : error.message.split('\n')[0];
            const said = stderr.trim() ? `; it said: ${stderr.trim().slice(0, 500)}` : '';
            options.logger.warn(
              `--on-condition-change ${program} failed for ${change.condition.type}: ${why}${said}`,
              { device: change.device, operation: 'health' },
            );
          }
          resolve();
        },
      );
    });
  return {
    handle: (change) => {
      queue = queue.then(() => runOne(change));
    },
    idle: () => queue,
  };
}
