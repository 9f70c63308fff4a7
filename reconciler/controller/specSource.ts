/**
 * The config dir as the controller's spec source: every load lists and
 * stats the whole directory through the spec library, which is what makes a
 * missed or reordered watch event harmless. What each file held is kept
 * between loads (the source lives as long as its controller), so a pass reads
 * and parses only the files that changed; ownership and mode are checked
 * every time.
 */
import { SpecFileCache } from '../spec/file-cache.js';
import { loadSpecs } from '../spec/index.js';
import type { LoadResult } from '../spec/index.js';
import type { SpecSource } from './controller.js';

export function configDirSource(
  configDir: string,
  allowInsecurePermissions: boolean,
  cache: SpecFileCache = new SpecFileCache(),
): SpecSource {
  return {
    load: (): Promise<LoadResult> => loadSpecs([configDir], { allowInsecurePermissions, cache }),
  };
}
