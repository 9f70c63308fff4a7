import test from 'ava';
import { median, percentile, round, spreadOf } from '../../bench/lib/stats.js';
import { formatTable } from '../../bench/lib/table.js';
import { figure } from '../../bench/lib/record.js';

test('percentiles interpolate between closest ranks', (t) => {
  const samples = [40, 10, 30, 20];
  t.is(percentile(samples, 0), 10);
  t.is(percentile(samples, 100), 40);
  t.is(median(samples), 25);
  t.is(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90), 10);
  t.is(round(percentile([...Array(100).keys()], 99), 2), 98.01);
  t.is(percentile([7], 99), 7);
});

test('a percentile of nothing, or outside 0..100, is an error', (t) => {
  t.throws(() => percentile([], 50), { instanceOf: RangeError });
  t.throws(() => percentile([1], 101), { instanceOf: RangeError });
  t.throws(() => percentile([1], Number.NaN), { instanceOf: RangeError });
});

test('the spread is the range of the samples', (t) => {
  t.is(spreadOf([3.14159, 2.5, 10], 1), '2.5..10');
  t.is(spreadOf([1234.4, 999.6], 0), '1000..1234');
});

test('the table has a row per figure with its unit, ratio and verdict', (t) => {
  const table = formatTable([
    figure({
      id: 'P1a',
      label: 'pass',
      value: 60,
      unit: 'ms',
      baseline: 2,
      baselineLabel: 'floor',
      target: '<= 50 ms',
    }),
    figure({ id: 'P4b', label: 'idle', value: 0.1, unit: '%CPU' }),
  ]);
  const lines = table.trimEnd().split('\n');
  t.is(lines.length, 3);
  t.regex(lines[1]!, /^P1a\s+pass\s+60 ms\s+2 ms floor\s+30\s+<= 50 ms\s+NO$/);
  t.regex(lines[2]!, /^P4b\s+idle\s+0\.1 %CPU\s+-\s+-\s+-\s+-$/);
});
