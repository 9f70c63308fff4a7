/**
 * A crash-testing hook: with DM_REMAP_PAUSE_AFTER=<step>[:<device>] set, the
 * reconciler stops dead right after that kernel step (create, load, suspend,
 * resume, clearInactive, remove, loadModule), writes DM_REMAP_PAUSE_MARKER,
 * and waits forever — so a test can `kill -9` it at exactly that point of a
 * device's lifecycle and check that a restart repairs whatever was left.
 * Without the variable nothing is hooked.
 */
import { writeFile } from 'node:fs/promises';
import type { StepHook } from './effects.js';

export function pauseHookFromEnv(env: NodeJS.ProcessEnv): StepHook | undefined {
  const target = env['DM_REMAP_PAUSE_AFTER'];
  if (!target) return undefined;
  const [step, device] = target.split(':');
  const marker = env['DM_REMAP_PAUSE_MARKER'];
  let paused = false;
  return async (doneStep, doneDevice) => {
    if (paused || doneStep !== step || (device !== undefined && device !== doneDevice)) return;
    paused = true;
    if (marker) await writeFile(marker, `${doneStep} ${doneDevice}\n`);
    await new Promise<never>(() => undefined);
  };
}
