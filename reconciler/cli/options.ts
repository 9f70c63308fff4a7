/**
 * The options verbs share, defined once so they read the same everywhere.
 * Loaded at every start (commander reads them for --help, the man page and
 * the completion), so this module names defaults and nothing heavier: what
 * the options mean at run time lives with the implementations.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { CONFIG_DIR_ENV, DEFAULT_CONFIG_DIR, defaultConfigDir } from '../spec/config-dir.js';
import { DEFAULT_STATE_DIR } from '../controller/stateStore.js';
import type { LogFormat } from '../log.js';

export interface ConfigDirOptions {
  configDir?: string;
}

export function addConfigDirOption(command: Command): Command {
  return command.addOption(
    new Option(
      '--config-dir <dir>',
      `directory of spec files (default: $${CONFIG_DIR_ENV} or ${DEFAULT_CONFIG_DIR})`,
    ),
  );
}

/** --config-dir, else $DM_REMAP_CONFIG_DIR, else /etc/dm-remap.d. */
export function resolveConfigDir(options: ConfigDirOptions, env: NodeJS.ProcessEnv): string {
  return options.configDir ?? defaultConfigDir(env);
}

export interface PermissionOptions {
  allowInsecurePermissions?: boolean;
}

export function addAllowInsecurePermissionsOption(command: Command): Command {
  return command.option(
    '--allow-insecure-permissions',
    'accept spec files and directories that a non-root user can change (tests and development only)',
  );
}

export type OutputFormat = 'text' | 'json';

export interface OutputOptions {
  output: OutputFormat;
}

export function addOutputOption(command: Command): Command {
  return command.addOption(
    new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'),
  );
}

export interface KernelOptions {
  kernel: string;
}

/** The hidden --kernel: dmsetup on a host, a simulated kernel in tests and benchmarks. */
export function addKernelOption(command: Command): Command {
  return command.addOption(
    new Option('--kernel <kind>', 'kernel adapter: dmsetup, or sim:FILE (a simulated kernel kept in FILE)')
      .default('dmsetup')
      .hideHelp(),
  );
}

/** `--state-dir DIR`, for every verb that reads or writes the applied records. */
export function stateDirOption(): Option {
  return new Option(
    '--state-dir <dir>',
    'where what was applied to each device is kept across restarts and reboots ' +
      `(default: $DM_REMAP_STATE_DIR or ${DEFAULT_STATE_DIR})`,
  );
}

export interface ReconcileOptions extends ConfigDirOptions, PermissionOptions, Partial<OutputOptions> {
  prune?: boolean;
  kernel: string;
  logFormat: LogFormat;
  operationTimeout: string;
  stateDir?: string;
  acceptDataLoss?: string[];
}

/** The options every reconcile verb takes; `--output` only where there is a result to print (not `run`). */
export function addReconcileOptions(command: Command, settings: { output: boolean }): Command {
  addConfigDirOption(command);
  if (settings.output) addOutputOption(command);
  addAllowInsecurePermissionsOption(command);
  command
    .option('--prune', 'remove owned devices whose spec was deleted, even with removalPolicy Retain')
    .addOption(
      new Option('--log-format <format>', 'log lines as JSON or human text (auto: text on a terminal)')
        .choices(['auto', 'json', 'text'])
        .default('auto'),
    )
    .addOption(
      new Option(
        '--operation-timeout <duration>',
        'upper bound of one kernel operation on one device',
      ).default('60s'),
    )
    .addOption(stateDirOption());
  return addKernelOption(command);
}

/**
 * `--accept-data-loss NAME` (repeatable), for the verbs that may act on it:
 * the one way past a refusal to leave remapped blocks behind on a spare.
 */
export function addAcceptDataLossOption(command: Command): Command {
  return command.addOption(
    new Option(
      '--accept-data-loss <name>',
      'give up the remapped blocks on the previous spare of device NAME: let a new spare or block size ' +
        'go ahead (repeatable; copy the data off first)',
    ).argParser((name: string, previous: string[] | undefined) => [...(previous ?? []), name]),
  );
}
