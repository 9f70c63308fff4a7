/** The simulated target's remap index: runs of blocks on consecutive slots, as the module's index keeps them. */
import test from 'ava';

import { RemapRuns } from '../../reconciler/kernel/simulated-remaps.js';

const listed = (runs: RemapRuns, first = 0, last = Number.MAX_SAFE_INTEGER) => [...runs.list(first, last)];

test('new remaps take the next slots in block order and skip blocks already remapped', (t) => {
  const runs = new RemapRuns();
  t.is(runs.add(10, 3), 3);
  t.is(runs.add(8, 6), 3, 'blocks 8, 9 and 13 are new; 10 to 12 are skipped');
  t.deepEqual(listed(runs), [
    [8, 3],
    [9, 4],
    [10, 0],
    [11, 1],
    [12, 2],
    [13, 5],
  ]);
  t.is(runs.size, 6);
});

test('a limit moves the blocks that fit and no more', (t) => {
  const runs = new RemapRuns();
  t.is(runs.add(0, 100, 7), 7);
  t.deepEqual(listed(runs, 5, 99), [
    [5, 5],
    [6, 6],
  ]);
});

test('a listing is cut to [first, last], even inside a run', (t) => {
  const runs = new RemapRuns();
  runs.add(100, 50);
  runs.add(300, 1);
  t.deepEqual(listed(runs, 148, 300), [
    [148, 48],
    [149, 49],
    [300, 50],
  ]);
  t.deepEqual(listed(runs, 151, 299), []);
});

test('100,000 remaps in ascending runs are kept as a few runs, not one object per block', (t) => {
  const runs = new RemapRuns();
  for (let block = 0; block < 200_000; block += 2_000) runs.add(block, 1_000);
  t.is(runs.size, 100_000);
  t.is(runs.toJSON().length, 100, 'one run per message');
  t.deepEqual(listed(runs, 199_999, 199_999), []);
  t.deepEqual(listed(runs, 198_999, 198_999), [[198_999, 99_999]]);
});

test('runs written as JSON come back identical', (t) => {
  const runs = new RemapRuns();
  runs.add(5, 2);
  runs.add(1, 10);
  const restored = RemapRuns.fromJSON(JSON.parse(JSON.stringify(runs.toJSON())) as unknown);
  t.deepEqual(listed(restored), listed(runs));
  t.is(restored.size, 10);
});

test('a malformed saved form is refused rather than guessed at', (t) => {
  t.throws(() => RemapRuns.fromJSON([[1, 2]]), { message: /remap run/ });
  t.throws(
    () =>
      RemapRuns.fromJSON([
        [5, 0, 3],
        [6, 3, 1],
      ]),
    { message: /overlap/ },
  );
});

test('the first run of blocks not remapped in a range is found past the remapped ones', (t) => {
  const runs = new RemapRuns();
  runs.add(0, 10);
  runs.add(12, 3);
  t.is(runs.unremappedIn(0, 100, 1024), 2, 'blocks 10 and 11');
  t.is(runs.unremappedIn(12, 100, 50), 50, 'from 15 on, capped');
  t.is(runs.unremappedIn(0, 10, 1024), 0);
  t.is(runs.unremappedIn(14, 3, 1024), 2);
});
