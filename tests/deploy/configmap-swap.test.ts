/**
 * A ConfigMap volume (deploy/kubernetes/daemonset.yaml mounts the specs so)
 * is updated the way the kubelet's atomic writer does it: the files are
 * written into a new hidden directory `..<timestamp>`, a `..data_tmp` link
 * to it is renamed over `..data`, and the old directory is removed; the
 * visible `NAME.yaml` entries are links through `..data` and do not change
 * for a key that already existed. git-sync swaps a worktree link the same
 * way. The daemon must take such a swap as one change.
 */
import test from 'ava';
import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { settle, watchBursts } from '../helpers/watchBursts.js';

/** Writes a new generation of `files` into `dir` as the kubelet does. */
async function kubeletUpdate(dir: string, generation: number, files: Record<string, string>): Promise<void> {
  const data = `..2026_12_04_00_00_0${generation}.000000000`;
  await mkdir(path.join(dir, data));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, data, name), text);
  await symlink(data, path.join(dir, '..data_tmp'));
  await rename(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
  for (const name of Object.keys(files)) {
    await symlink(path.join('..data', name), path.join(dir, name)).catch(() => undefined);
  }
  if (generation > 1)
    await rm(path.join(dir, `..2026_12_04_00_00_0${generation - 1}.000000000`), { recursive: true });
}

async function configMapDir(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'dm-remap-configmap-'));
  await kubeletUpdate(dir, 1, { 'a.yaml': 'generation: 1\n' });
  return { dir, bursts: await watchBursts(t, dir) };
}

test('the simulated kubelet update changes what a.yaml reads, through an unchanged link', async (t) => {
  const { dir } = await configMapDir(t);
  await kubeletUpdate(dir, 2, { 'a.yaml': 'generation: 2\n' });
  t.is(await readFile(path.join(dir, 'a.yaml'), 'utf8'), 'generation: 2\n');
});

test('a ConfigMap update of an existing key is one change for the daemon', async (t) => {
  const { dir, bursts } = await configMapDir(t);
  await kubeletUpdate(dir, 2, { 'a.yaml': 'generation: 2\n' });
  t.is(await settle(bursts, 1), 1);
});

test('a ConfigMap update that adds a key is one change too', async (t) => {
  const { dir, bursts } = await configMapDir(t);
  await kubeletUpdate(dir, 2, { 'a.yaml': 'generation: 1\n', 'b.yaml': 'generation: 2\n' });
  t.is(await settle(bursts, 1), 1);
});
