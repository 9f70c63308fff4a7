/**
 * A converged world of N devices for the figures that need one: a private
 * copy of the spec fixture (the edit figure changes it), a simulated kernel
 * and a state dir, brought to convergence by one `dm-remap apply`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { specFixture } from './fixtures.js';
import { measureNode } from './measure.js';
import type { Measured } from './measure.js';
import type { Tree } from './tree.js';

export interface World {
  tree: Tree;
  configDir: string;
  kernelFile: string;
  stateDir: string;
  count: number;
  /** The options every reconcile verb takes to act on this world. */
  args: string[];
  /** The first apply, which created every device. */
  creation: Measured;
}

export async function convergedWorld(
  tree: Tree,
  cacheDir: string,
  workDir: string,
  count: number,
): Promise<World> {
  const fixture = specFixture(cacheDir, count);
  const configDir = path.join(workDir, 'dm-remap.d');
  fs.cpSync(fixture.configDir, configDir, { recursive: true });
  const kernelFile = path.join(workDir, 'kernel.json');
  fs.copyFileSync(fixture.blankKernel, kernelFile);
  const stateDir = path.join(workDir, 'state');
  fs.mkdirSync(stateDir, { mode: 0o700 });
  const args = ['--config-dir', configDir, '--kernel', `sim:${kernelFile}`, '--state-dir', stateDir];
  // Permission checks are part of what is measured; they need root-owned files.
  if (process.getuid?.() !== 0) args.push('--allow-insecure-permissions');
  const creation = await measureNode([tree.cli, 'apply', ...args, '--log-format', 'json']);
  if (creation.status !== 0) {
    throw new Error(
      `the first apply of ${count} devices exited ${creation.status}:\n${creation.stdout.slice(-1000)}\n${creation.stderr.slice(-1000)}`,
    );
  }
  return { tree, configDir, kernelFile, stateDir, count, args, creation };
}
