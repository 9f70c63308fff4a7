/**
 * Every verb of the CLI, in help order: the one list the entry point and the
 * generated man page and completion share. Adding a verb is adding its
 * module here.
 */
import type { CliCommand } from '../command.js';

export async function allCommands(): Promise<CliCommand[]> {
  const modules = await Promise.all([
    import('./validate.js'),
    import('./plan.js'),
    import('./apply.js'),
    import('./run.js'),
    import('./status.js'),
    import('./metrics.js'),
    import('./clearStats.js'),
    import('./remapBlock.js'),
    import('./remaps.js'),
    import('./adopt.js'),
    import('./bootTables.js'),
    import('./version.js'),
  ]);
  return modules.map((module) => module.command);
}
