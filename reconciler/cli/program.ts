/**
 * The dm-remap command line: builds the commander program from the verbs it
 * is given and runs it, returning an exit status instead of exiting.
 */
import { Command, CommanderError } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import type { CliCommand } from './command.js';
import { EnvironmentError, ExitCode, ExitError, exitCodeHelp, UsageError } from './errors.js';
import type { CliIo } from './io.js';

export function createProgram(io: CliIo, commands: readonly CliCommand[]): Command {
  const program = new Command('dm-remap')
    .description('Declarative manager for dm-remap devices (bad-sector remapping onto a spare device).')
    .version(packageJson.version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (text) => io.stdout(text), writeErr: (text) => io.stderr(text) })
    // Settings above are copied into every verb registered below.
    .exitOverride();
  for (const command of commands) command.register(program, io);
  for (const verb of [program, ...program.commands]) verb.addHelpText('after', exitCodeHelp());
  return program;
}

/** Runs the CLI on `argv` (process.argv shape) and resolves to the exit status. */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  commands: readonly CliCommand[],
): Promise<number> {
  const program = createProgram(io, commands);
  try {
    await program.parseAsync([...argv]);
    return ExitCode.ok;
  } catch (cause) {
    if (cause instanceof ExitError) return cause.code;
    if (cause instanceof UsageError) {
      io.stderr(`error: ${cause.message}\n`);
      return ExitCode.usage;
    }
    if (cause instanceof EnvironmentError) {
      io.stderr(`dm-remap: ${cause.message}\n`);
      return cause.code;
    }
    // commander has already printed its message (or the help/version it was asked for).
    if (cause instanceof CommanderError) return cause.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    throw cause;
  }
}
