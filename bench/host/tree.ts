/**
 * The checkout a run measures (`--tree DIR`): its built CLI, found as a user
 * finds it, through package.json's "bin", so a tree that ships the CLI as
 * one bundled file is measured as it ships.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface Tree {
  root: string;
  /** The file `dm-remap` runs. */
  cli: string;
  /** `git describe` of the tree when it is a git checkout, for the report. */
  commit?: string;
}

export function treeAt(dir: string): Tree {
  const root = path.resolve(dir);
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    bin?: string | Record<string, string>;
  };
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.['dm-remap'];
  if (bin === undefined) throw new Error(`${root}/package.json has no "bin" for dm-remap`);
  const cli = path.join(root, bin);
  if (!fs.existsSync(cli)) throw new Error(`${cli} does not exist: build the tree first (npm run build)`);
  return { root, cli };
}
