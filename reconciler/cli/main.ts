#!/usr/bin/env node
/**
 * Entry point of the dm-remap command. The only place that exits the process:
 * commands report through ExitError (see errors.ts).
 */
import type { CliCommand } from './command.js';
import { ExitCode } from './errors.js';
import { processIo } from './io.js';
import { runCli } from './program.js';

/** Every verb of the CLI, in help order. Adding a verb is adding its module here. */
const COMMAND_MODULES: Promise<{ command: CliCommand }>[] = [
  import('./commands/validate.js'),
  import('./commands/plan.js'),
  import('./commands/apply.js'),
  import('./commands/run.js'),
  import('./commands/status.js'),
  import('./commands/metrics.js'),
  import('./commands/clearStats.js'),
  import('./commands/remapBlock.js'),
  import('./commands/remaps.js'),
  import('./commands/adopt.js'),
  import('./commands/version.js'),
];

try {
  const commands = (await Promise.all(COMMAND_MODULES)).map((module) => module.command);
  process.exit(await runCli(process.argv, processIo(), commands));
} catch (cause) {
  // Whatever reaches here was not foreseen: the stack is what a bug report needs.
  const detail = cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
  process.stderr.write(`dm-remap: internal error (this is a bug): ${detail}\n`);
  process.exit(ExitCode.internal);
}
