/** What every host figure is given: the tree it measures, where fixtures live, how long to take. */
import type { Tree } from './tree.js';

export interface HostContext {
  tree: Tree;
  /** .cache/bench/ of the checkout running the benchmarks: reused fixtures. */
  cacheDir: string;
  /** A fresh directory for this run's worlds, removed afterwards. */
  workDir: string;
  quick: boolean;
  /** Progress for the operator (stderr). */
  progress(message: string): void;
}
