import test from 'ava';
import { selfTimes, selfTimesByScript } from '../../bench/lib/cpuprofile.js';
import type { CpuProfile } from '../../bench/lib/cpuprofile.js';

const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });

const profile: CpuProfile = {
  startTime: 0,
  endTime: 10_000,
  nodes: [
    { id: 1, callFrame: frame('(root)', '') },
    { id: 2, callFrame: frame('compile', 'file:///app/node_modules/ajv/dist/core.js', 9) },
    { id: 3, callFrame: frame('parse', 'file:///app/node_modules/yaml/dist/parse.js', 4) },
    { id: 4, callFrame: frame('loadSpecs', 'file:///app/dist/reconciler/spec/loader.js', 19) },
    { id: 5, callFrame: frame('(garbage collector)', '') },
  ],
  // Each sample is charged the delta after it: 2 → 3000, 3 → 1000, 2 → 2000, 4 → 500, 5 → 1500.
  samples: [2, 3, 2, 4, 5, 1],
  timeDeltas: [0, 3000, 1000, 2000, 500, 1500],
};

test('self time is summed per function, largest first', (t) => {
  const rows = selfTimes(profile);
  t.deepEqual(
    rows.map((row) => [row.where, row.ms]),
    [
      ['compile /app/node_modules/ajv/dist/core.js:10', 5],
      ['(garbage collector)', 1.5],
      ['parse /app/node_modules/yaml/dist/parse.js:5', 1],
      ['loadSpecs /app/dist/reconciler/spec/loader.js:20', 0.5],
      ['(root)', 0],
    ],
  );
  t.is(rows[0]!.share, 0.625);
});

test('self time is summed per dependency or file', (t) => {
  t.deepEqual(
    selfTimesByScript(profile).map((row) => [row.where, row.ms]),
    [
      ['node_modules/ajv', 5],
      ['(garbage collector)', 1.5],
      ['node_modules/yaml', 1],
      ['/app/dist/reconciler/spec/loader.js', 0.5],
      ['(root)', 0],
    ],
  );
});
