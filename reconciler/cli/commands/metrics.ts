/**
 * `dm-remap metrics` as commander sees it: arguments, options and help.
 * What it does is in actions/metrics.ts, imported only when it runs.
 */
import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import type { CliIo } from '../io.js';
import { addReconcileOptions } from '../options.js';
import type { ReconcileOptions } from '../options.js';

export interface MetricsOptions extends ReconcileOptions {
  textfile?: string;
}

export const command: CliCommand = {
  register(program: Command, io: CliIo) {
    const verb = program
      .command('metrics')
      .summary('print the per-device Prometheus metrics, or write them for node_exporter')
      .description(
        "Observe the kernel and print each device's Prometheus series (target counters, conditions, phase), " +
          "as the daemon's /metrics has them. With --textfile FILE, replace FILE atomically instead, for " +
          "node_exporter's textfile collector (the name must end in .prom). Changes nothing and needs no daemon.",
      )
      .option('--textfile <file>', 'write the series to FILE (atomically) instead of printing them');
    addReconcileOptions(verb, { output: false }).action(async (options: MetricsOptions) => {
      const { metricsCommand } = await import('../actions/metrics.js');
      await metricsCommand(options, io);
    });
  },
};
