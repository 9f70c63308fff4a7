import type { Command } from 'commander';
import type { CliIo } from './io.js';

/**
 * One verb of the CLI. Each module in commands/ exports `command: CliCommand`
 * and is listed in commands/index.ts. A definition is loaded at every start,
 * so its action imports the verb's implementation (actions/) with import()
 * rather than statically.
 */
export interface CliCommand {
  /** Adds the verb (its arguments, options, help and action) to the program. */
  register(program: Command, io: CliIo): void;
}
