/**
 * `dm-remap metrics [--textfile FILE]`: the per-device Prometheus series
 * (the daemon's /metrics without the controller's own), for hosts that do
 * not run the daemon: print them, or write them for node_exporter's textfile
 * collector (`--collector.textfile.directory`; the name must end in .prom),
 * e.g. from a systemd timer. The file is replaced atomically (a temporary
 * file beside it, fsynced, renamed over it), so the collector never reads
 * half of it. Exit status 0 whatever the devices' health (the series say
 * it); 74 when FILE cannot be written.
 */
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { CliIo } from '../io.js';
import { ExitCode, ExitError } from '../errors.js';
import { readDeviceStatus } from '../readDeviceStatus.js';
import { DeviceMetrics } from '../../metrics/metrics.js';
import type { MetricsOptions } from '../commands/metrics.js';

export async function metricsCommand(options: MetricsOptions, io: CliIo): Promise<void> {
  const { devices } = await readDeviceStatus(options, io);
  const metrics = new DeviceMetrics();
  metrics.update(devices);
  const text = await metrics.registry.metrics();
  if (options.textfile === undefined) {
    io.stdout(text);
    return;
  }
  try {
    await writeAtomically(options.textfile, text);
  } catch (error) {
    io.stderr(`dm-remap: cannot write ${options.textfile}: ${(error as Error).message}\n`);
    throw new ExitError(ExitCode.ioError);
  }
}

/** Write beside the target, fsync, rename over it: a reader sees the old file or the new one. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    const handle = await open(temporary, 'w', 0o644);
    try {
      await handle.writeFile(text);
      await handle.chmod(0o644);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
