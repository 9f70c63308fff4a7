/**
 * Every verb of the CLI, in help order: the one list the entry point and the
 * generated man page and completion share. Adding a verb is adding its
 * definition here and its implementation in actions/.
 *
 * The definitions are imported statically: they are what every start needs
 * (commander parses the command line and prints help with them) and they
 * load nothing heavier than commander. Each one imports its implementation
 * with import() when its verb runs, so `dm-remap --help` or `dm-remap
 * validate` never evaluates the controller, xstate, winston or prom-client.
 * tests/cli/startup.test.ts holds the bundle to that.
 */
import type { CliCommand } from '../command.js';
import { command as adopt } from './adopt.js';
import { command as apply } from './apply.js';
import { command as bootTables } from './bootTables.js';
import { command as clearStats } from './clearStats.js';
import { command as metrics } from './metrics.js';
import { command as plan } from './plan.js';
import { command as remapBlock } from './remapBlock.js';
import { command as remaps } from './remaps.js';
import { command as run } from './run.js';
import { command as status } from './status.js';
import { command as validate } from './validate.js';
import { command as version } from './version.js';

export function allCommands(): CliCommand[] {
  return [
    validate,
    plan,
    apply,
    run,
    status,
    metrics,
    clearStats,
    remapBlock,
    remaps,
    adopt,
    bootTables,
    version,
  ];
}
