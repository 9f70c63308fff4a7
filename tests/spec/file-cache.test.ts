/**
 * The spec file cache: an unchanged file is not read again; any change to it,
 * to the file behind its name or to who may write it, is seen on the next load.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { isRacy, RACY_MARGIN_NS, SpecFileCache } from '../../reconciler/spec/file-cache.js';
import type { FileFingerprint } from '../../reconciler/spec/file-cache.js';
import { loadSpecs } from '../../reconciler/spec/index.js';
import { specYaml, tempDir, writeFile } from '../helpers/specs.js';

const run = promisify(execFile);
const HOUR_NS = 3_600_000_000_000n;
const wallNs = () => BigInt(Date.now()) * 1_000_000n;

/** A cache whose clock is an hour ahead: every file written by the test is old enough to be trusted. */
const laterCache = () => new SpecFileCache({ nowNs: () => wallNs() + HOUR_NS });

async function configDir(t: ExecutionContext): Promise<string> {
  const dir = await tempDir(t);
  await writeFile(dir, 'a.yaml', specYaml('a'));
  await writeFile(dir, 'b.yaml', specYaml('b'));
  return dir;
}

const names = (result: Awaited<ReturnType<typeof loadSpecs>>) => result.devices.map((d) => d.name);

test('an unchanged file is not read again, and loads the same', async (t) => {
  const dir = await configDir(t);
  const cache = laterCache();
  const first = await loadSpecs([dir], { cache });
  t.is(cache.reads, 2);
  const second = await loadSpecs([dir], { cache });
  t.is(cache.reads, 2, 'nothing read on the second load');
  t.deepEqual(second, first);
});

test('a same-size rewrite right after a load is seen on the next one', async (t) => {
  const dir = await configDir(t);
  const cache = new SpecFileCache();
  const file = path.join(dir, 'a.yaml');
  t.deepEqual(names(await loadSpecs([dir], { cache })), ['a', 'b']);
  const before = await fs.stat(file, { bigint: true });
  await fs.writeFile(file, specYaml('c'));
  // As a coarse clock would stamp it: the very mtime of the version read (ctime too, within one tick).
  await setMtimeNs(file, before.mtimeNs);
  t.deepEqual(names(await loadSpecs([dir], { cache })), ['c', 'b']);
});

test('files written just before a load are read again on the next load', async (t) => {
  const dir = await configDir(t);
  const cache = new SpecFileCache();
  await loadSpecs([dir], { cache });
  await loadSpecs([dir], { cache });
  t.is(cache.reads, 4);
});

/** utimes() takes milliseconds at best; touch sets the nanoseconds too. */
async function setMtimeNs(file: string, mtimeNs: bigint): Promise<void> {
  const stamp = `@${mtimeNs / 1_000_000_000n}.${String(mtimeNs % 1_000_000_000n).padStart(9, '0')}`;
  await run('touch', ['-m', '-d', stamp, file]);
}

test('a file the clock says was just written is read again on each load until it is old enough', (t) => {
  const statedAt = 10n * HOUR_NS;
  const at = (timeNs: bigint): FileFingerprint => ({
    dev: 1n,
    ino: 2n,
    size: 3n,
    mtimeNs: timeNs,
    ctimeNs: timeNs,
  });
  t.true(isRacy(at(statedAt), statedAt));
  t.true(isRacy(at(statedAt - RACY_MARGIN_NS + 1n), statedAt));
  t.false(isRacy(at(statedAt - RACY_MARGIN_NS - 1n), statedAt));
  t.true(
    isRacy({ ...at(statedAt - HOUR_NS), ctimeNs: statedAt }, statedAt),
    'a recent chmod or rename counts too',
  );
});

test('a file renamed over a cached one is read', async (t) => {
  const dir = await configDir(t);
  const cache = laterCache();
  await loadSpecs([dir], { cache });
  // Same size and, to the second, the same times: only the inode tells.
  const replacement = await writeFile(dir, '.a.yaml.tmp', specYaml('c'));
  await setMtimeNs(replacement, (await fs.stat(path.join(dir, 'a.yaml'), { bigint: true })).mtimeNs);
  await fs.rename(replacement, path.join(dir, 'a.yaml'));
  t.deepEqual(names(await loadSpecs([dir], { cache })), ['c', 'b']);
  t.is(cache.reads, 3);
});

test('permissions are checked on every load: a cached file made group-writable is refused', async (t) => {
  const dir = await configDir(t);
  const cache = laterCache();
  const file = path.join(dir, 'a.yaml');
  await loadSpecs([dir], { cache });
  await fs.chmod(file, 0o664);
  const refused = await loadSpecs([dir], { cache });
  t.deepEqual(names(refused), ['b']);
  t.deepEqual(
    refused.diagnostics.map((d) => [path.basename(d.file), d.code]),
    [['a.yaml', 'insecure-permissions']],
  );
  await fs.chmod(file, 0o644);
  t.deepEqual(names(await loadSpecs([dir], { cache })), ['a', 'b']);
});

test('a cached file whose directory turns world-writable is refused without being read again', async (t) => {
  const dir = await configDir(t);
  const cache = laterCache();
  await loadSpecs([dir], { cache });
  await fs.chmod(dir, 0o777);
  const refused = await loadSpecs([dir], { cache });
  t.deepEqual(refused.devices, []);
  t.deepEqual(
    refused.diagnostics.map((d) => [path.basename(d.file), d.code]),
    [
      [path.basename(dir), 'insecure-permissions'],
      ['a.yaml', 'insecure-permissions'],
      ['b.yaml', 'insecure-permissions'],
    ],
  );
  t.is(cache.reads, 2);
});

test('an invalid file is cached with its diagnostics; deleted files are forgotten', async (t) => {
  const dir = await configDir(t);
  await writeFile(dir, 'broken.yaml', 'kind: [\n');
  const cache = laterCache();
  const first = await loadSpecs([dir], { cache });
  t.deepEqual(
    first.diagnostics.map((d) => [path.basename(d.file), d.code]),
    [['broken.yaml', 'yaml-syntax']],
  );
  t.deepEqual(await loadSpecs([dir], { cache }), first);
  t.is(cache.reads, 3);
  await fs.rm(path.join(dir, 'broken.yaml'));
  t.deepEqual((await loadSpecs([dir], { cache })).diagnostics, []);
  t.is(cache.size, 2);
});
