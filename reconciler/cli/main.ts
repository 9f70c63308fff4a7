#!/usr/bin/env node
/**
 * Entry point of the dm-remap command. The only place that exits the process:
 * commands report through ExitError (see errors.ts).
 */
import { allCommands } from './commands/index.js';
import { ExitCode } from './errors.js';
import { processIo } from './io.js';
import { runCli } from './program.js';

try {
  process.exit(await runCli(process.argv, processIo(), allCommands()));
} catch (cause) {
  // Whatever reaches here was not foreseen: the stack is what a bug report needs.
  const detail = cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
  process.stderr.write(`dm-remap: internal error (this is a bug): ${detail}\n`);
  process.exit(ExitCode.internal);
}
