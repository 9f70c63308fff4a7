/**
 * `dm-remap plan`: what `apply` would do now, device by device, with reasons
 * — computed from the specs and one observation of the kernel, changing
 * nothing. Exit status (errors.ts): 0 nothing to do; 2 changes pending; 1
 * apply would not converge every device (a spec is invalid, a change is
 * refused, a device waits for a missing disk — unless its spec says nofail —
 * or is blocked), even when other
 * devices have changes pending; 74 or 77 the config cannot be acted on; 69
 * or 77 device-mapper cannot be observed.
 */
import type { CliIo } from '../io.js';
import { ExitCode, ExitError, exitCodeOfDiagnostics } from '../errors.js';
import { isError } from '../../spec/index.js';
import { printDiagnostics } from '../output.js';
import { environmentError, loggerFor, openController } from '../../controller/commandSupport.js';
import type { ReconcileOptions } from '../options.js';
import { formatPlan } from '../../controller/formatPlan.js';
import { isUnconverged } from '../../controller/plan.js';
import { DAEMON_BACKOFF } from '../../device/backoff.js';

export async function planCommand(options: ReconcileOptions, io: CliIo): Promise<void> {
  const logger = loggerFor((text) => io.stderr(text), options.logFormat, process.stderr.isTTY === true);
  const opened = await openController(options, io, { logger, backoff: DAEMON_BACKOFF, readOnlyState: true });
  try {
    const { controller } = opened;
    await controller.loadSpecs();
    const diagnostics = controller.diagnostics;
    const refusal = controller.refusalReason;
    const planned = refusal
      ? undefined
      : await controller.planAndInput().catch((error: unknown) => {
          throw environmentError('cannot plan', error);
        });
    const plan = planned?.plan;
    // A refused change, a missing disk or an open device: apply would end with this device unconverged,
    // save a missing disk of a nofail device, which apply reports as a skip.
    const nofail = new Set(planned?.input.specs.filter((spec) => spec.nofail).map((spec) => spec.name));
    const unconverged =
      plan?.devices.some((device) =>
        device.operations.some(
          (operation) => isUnconverged(operation) && !(operation.kind === 'wait' && nofail.has(device.name)),
        ),
      ) ?? false;

    if (options.output === 'json') {
      io.stdout(JSON.stringify({ configDir: opened.configDir, refusal, plan, diagnostics }, null, 2) + '\n');
    } else {
      printDiagnostics(io, diagnostics);
      if (refusal) io.stderr(`error: not planning anything: ${refusal}\n`);
      if (plan) io.stdout(formatPlan(plan));
    }
    // Config that cannot be acted on at all: unreadable (74) or changeable by non-root (77).
    if (refusal) throw new ExitError(exitCodeOfDiagnostics(diagnostics));
    // 1 outweighs 2: changes pending elsewhere do not make the plan one apply can carry out.
    if (unconverged || diagnostics.some(isError)) throw new ExitError(ExitCode.notConverged);
    if (plan?.hasChanges) throw new ExitError(ExitCode.changesPending);
  } finally {
    await opened.close();
  }
}
