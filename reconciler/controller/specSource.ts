/**
 * The config dir as the controller's spec source: every load re-reads the
 * whole directory through the spec library, which is what makes a missed or
 * reordered watch event harmless.
 */
import { loadSpecs } from '../spec/index.js';
import type { LoadResult } from '../spec/index.js';
import type { SpecSource } from './controller.js';

export function configDirSource(configDir: string, allowInsecurePermissions: boolean): SpecSource {
  return {
    load: (): Promise<LoadResult> => loadSpecs([configDir], { allowInsecurePermissions }),
  };
}
