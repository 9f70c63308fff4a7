/**
 * `dm-remap status [NAME...]`: each device's lifecycle phase, its conditions
 * (Ready, Progressing, Degraded, Failed) and its target's counters, as a
 * table like `lvs` or as JSON. Works without a daemon: one observation of the
 * kernel, the specs and the applied state, read only (no lock is taken, so it
 * never waits for an apply or the daemon). Exit status: 0 when every device
 * shown is Ready and neither Degraded nor Failed; 1 otherwise, or when a NAME
 * is unknown; 74 or 77 the config cannot be acted on; 69 or 77 device-mapper
 * cannot be observed.
 */
import type { CliIo } from '../io.js';
import { ExitCode, ExitError } from '../errors.js';
import { printDiagnostics } from '../output.js';
import { readDeviceStatus } from '../readDeviceStatus.js';
import type { ReconcileOptions } from '../options.js';
import { healthy } from '../../health/conditions.js';
import { formatStatus } from '../../health/formatStatus.js';

export async function statusCommand(names: string[], options: ReconcileOptions, io: CliIo): Promise<void> {
  const { devices: all, diagnostics, now, transitionsKnown } = await readDeviceStatus(options, io);
  const wanted = new Set(names);
  const shown = names.length > 0 ? all.filter((device) => wanted.has(device.name)) : all;
  const unknown = names.filter((name) => !all.some((device) => device.name === name));

  if (options.output === 'json') {
    io.stdout(JSON.stringify({ devices: shown }, null, 2) + '\n');
  } else {
    printDiagnostics(io, diagnostics, true);
    io.stdout(formatStatus(shown, { now, transitionsKnown }));
  }
  for (const name of unknown) {
    io.stderr(
      `dm-remap: no device named ${name} (no spec declares it and the kernel has no such owned device)\n`,
    );
  }
  if (unknown.length > 0 || !shown.every((device) => healthy(device.conditions))) {
    throw new ExitError(ExitCode.notConverged);
  }
}
