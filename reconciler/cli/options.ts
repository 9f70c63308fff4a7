/** Options several verbs share, defined once so they read the same everywhere. */
import { Option } from 'commander';
import type { Command } from 'commander';
import { CONFIG_DIR_ENV, DEFAULT_CONFIG_DIR, defaultConfigDir } from '../spec/index.js';

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
