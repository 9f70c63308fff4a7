/** The controller's spec source reads a file again only when it changed. */
import fs from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { configDirSource } from '../../reconciler/controller/specSource.js';
import { SpecFileCache } from '../../reconciler/spec/file-cache.js';
import { specYaml, tempDir, writeFile } from '../helpers/specs.js';

test('each load reads only the files that changed since the last one', async (t) => {
  const dir = await tempDir(t);
  await writeFile(dir, 'a.yaml', specYaml('a'));
  await writeFile(dir, 'b.yaml', specYaml('b'));
  // An hour ahead: the files just written count as old enough to trust their times.
  const cache = new SpecFileCache({ nowNs: () => (BigInt(Date.now()) + 3_600_000n) * 1_000_000n });
  const source = configDirSource(dir, false, cache);

  await source.load();
  await source.load();
  t.is(cache.reads, 2);

  await fs.writeFile(path.join(dir, 'b.yaml'), specYaml('bb'));
  const changed = await source.load();
  t.is(cache.reads, 3);
  t.deepEqual(
    changed.devices.map((d) => d.name),
    ['a', 'bb'],
  );
});
