import type { Command } from 'commander';
import type { CliIo } from './io.js';

/**
 * One verb of the CLI. Each module in commands/ exports `command: CliCommand`;
 * registering it is one line in main.ts's COMMANDS list.
 */
export interface CliCommand {
  /** Adds the verb (its arguments, options, help and action) to the program. */
  register(program: Command, io: CliIo): void;
}
