/**
 * Where the spec files live unless told otherwise. A module of its own so the
 * CLI's option help can name the default without loading the spec reader.
 */
export const DEFAULT_CONFIG_DIR = '/etc/dm-remap.d';
export const CONFIG_DIR_ENV = 'DM_REMAP_CONFIG_DIR';

export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[CONFIG_DIR_ENV];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_CONFIG_DIR;
}
