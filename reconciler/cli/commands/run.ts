/**
 * `dm-remap run` as commander sees it: arguments, options and help.
 * What it does is in actions/run.ts, imported only when it runs.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { CliCommand } from '../command.js';
import type { CliIo } from '../io.js';
import { addReconcileOptions } from '../options.js';
import type { ReconcileOptions } from '../options.js';

export interface RunOptions extends ReconcileOptions {
  resyncInterval: string;
  stopTimeout: string;
  onConditionChange?: string;
  metricsAddress?: string;
  logLevel: string;
}

export const command: CliCommand = {
  register(program: Command, io: CliIo) {
    const verb = program
      .command('run')
      .summary('run the reconciler daemon')
      .description(
        'Keep devices converged: a pass on start, on every change of the config dir, every --resync-interval ' +
          '(drift repair) and on SIGHUP. SIGTERM/SIGINT stop it once in-flight operations finish (exit 0), or ' +
          'after --stop-timeout with some still in flight (exit 75). Exits 69 or 77 at start when device-mapper ' +
          'cannot be used. Logs JSON lines on stdout (text on a terminal).',
      );
    addReconcileOptions(verb, { output: false })
      .addOption(
        new Option('--resync-interval <duration>', 'full pass to repair drift this often').default('60s'),
      )
      .addOption(
        // Below systemd's default TimeoutStopSec of 90 s, so the unit is not killed mid-operation.
        new Option(
          '--stop-timeout <duration>',
          'on SIGTERM/SIGINT, how long in-flight operations may take to finish',
        ).default('60s'),
      )
      .addOption(
        new Option(
          '--on-condition-change <program>',
          'run PROGRAM (no shell, no arguments) on each Degraded or Failed transition, with DM_REMAP_DEVICE, ' +
            'DM_REMAP_CONDITION, DM_REMAP_STATUS, DM_REMAP_REASON and DM_REMAP_MESSAGE in its environment',
        ),
      )
      .addOption(
        new Option('--log-level <level>', 'log this level and above (debug: every pass and observation)')
          .choices(['error', 'warn', 'info', 'debug'])
          .default('info'),
      )
      .addOption(
        new Option(
          '--metrics-address <address>',
          'serve /metrics, /healthz and /readyz on PORT or HOST:PORT (host default 127.0.0.1; off when not given)',
        ),
      )
      .action(async (options: RunOptions) => {
        const { runCommand } = await import('../actions/run.js');
        await runCommand(options, io);
      });
  },
};
