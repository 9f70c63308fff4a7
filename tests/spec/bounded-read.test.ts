/** readBounded: a spec file is read whole within its limit, however its size changes after stat. */
import fs from 'node:fs';
import test from 'ava';
import { readBounded } from '../../reconciler/spec/bounded-read.js';
import { tempDir, writeFile } from '../helpers/specs.js';

// Files under /proc say 0 bytes to stat yet hold text: a file that grew after it was checked.
const GROWN = '/proc/version';

test('a file longer than stat said is read whole', (t) => {
  const read = readBounded(GROWN, fs.statSync(GROWN, { bigint: true }), 1024 * 1024);
  t.deepEqual(read, { bytes: fs.readFileSync(GROWN) });
});

test('a file that grew past the limit after stat is refused with the limit in words', (t) => {
  const read = readBounded(GROWN, fs.statSync(GROWN, { bigint: true }), 10);
  t.deepEqual(read, {
    problem: {
      code: 'file-too-large',
      message: 'file is more than 10 bytes; spec files are limited to 10 bytes',
    },
  });
});

test('a file over the limit by its size is refused without reading, naming its size', async (t) => {
  const file = await writeFile(await tempDir(t), 'big.yaml', Buffer.alloc(2000, 0x61));
  t.deepEqual(readBounded(file, fs.statSync(file, { bigint: true }), 1999), {
    problem: { code: 'file-too-large', message: 'file is 2000 bytes; spec files are limited to 1999 bytes' },
  });
  const exact = readBounded(file, fs.statSync(file, { bigint: true }), 2000);
  t.is('bytes' in exact && exact.bytes.length, 2000);
});

test('a file replaced between stat and open is not read', async (t) => {
  const dir = await tempDir(t);
  const file = await writeFile(dir, 'a.yaml', 'a: 1\n');
  const checked = fs.statSync(file, { bigint: true });
  fs.renameSync(await writeFile(dir, 'b.yaml', 'b: 2\n'), file);
  t.deepEqual(readBounded(file, checked, 100), {
    problem: { code: 'io-error', message: 'was replaced while being read; not used (run again)' },
  });
});
