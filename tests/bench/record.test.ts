import test from 'ava';
import {
  figure,
  formatBenchResult,
  meets,
  parseBenchResults,
  parseTarget,
  ratioOf,
} from '../../bench/lib/record.js';

test('a target with a unit applies to the value in that unit', (t) => {
  const record = figure({ id: 'P1a', label: 'pass', value: 40, unit: 'ms', baseline: 2, target: '<= 50 ms' });
  t.is(record.ratio, 20);
  t.true(record.met);
  t.false(figure({ id: 'P1a', label: 'pass', value: 60, unit: 'ms', baseline: 200, target: '<= 50 ms' }).met);
});

test('a target without a unit applies to the ratio, or to the value when there is no baseline', (t) => {
  t.true(figure({ id: 'P2a', label: 'apply', value: 2, unit: 's', baseline: 10, target: '<= 0.25' }).met);
  t.false(figure({ id: 'P2a', label: 'apply', value: 3, unit: 's', baseline: 10, target: '<= 0.25' }).met);
  t.true(figure({ id: 'P5', label: 'io', value: 0.98, unit: 'x', target: '>= 0.97' }).met);
  t.false(figure({ id: 'P5', label: 'io', value: 0.9, unit: 'x', target: '>= 0.97' }).met);
});

test('the bound itself meets <= and >= but not < and >', (t) => {
  const record = { value: 50, unit: 'ms', ratio: null, baseline: null };
  t.true(meets('<= 50', record));
  t.true(meets('>= 50', record));
  t.false(meets('< 50', record));
  t.false(meets('> 50', record));
});

test('nothing measured meets nothing and fails nothing', (t) => {
  t.is(figure({ id: 'P1a', label: 'pass', value: null, unit: 'ms', target: '<= 50 ms' }).met, null);
  t.is(figure({ id: 'P2a', label: 'x', value: 1, unit: 's', baseline: 0, target: '<= 0.25' }).met, null);
});

test('the ratio needs both figures and a baseline that is not zero', (t) => {
  t.is(ratioOf(3, 2), 1.5);
  t.is(ratioOf(null, 2), null);
  t.is(ratioOf(3, null), null);
  t.is(ratioOf(3, 0), null);
});

test('a target is "<op> <number> [unit]"', (t) => {
  t.deepEqual(parseTarget('<= 0.25'), { comparison: '<=', bound: 0.25 });
  t.deepEqual(parseTarget('>=1.5 MB'), { comparison: '>=', bound: 1.5, unit: 'MB' });
  t.throws(() => parseTarget('about 2'), { instanceOf: SyntaxError });
  t.throws(() => meets('<= 2 s', { value: 1, unit: 'ms', ratio: null, baseline: null }), {
    instanceOf: RangeError,
  });
});

test('results are read from among other output, and a broken one is named', (t) => {
  const good = figure({
    id: 'P6a',
    label: 'validate',
    value: 900,
    unit: 'ms',
    baseline: 300,
    target: '<= 2000 ms',
  });
  const text = [
    '[    1.234] dm_remap: loaded',
    formatBenchResult(good),
    '  BENCH_RESULT {"id":"P2a","label":"apply","value":2.5,"unit":"s","baselineLabel":"loop","baseline":10,"ratio":0.25,"target":"<= 0.25","met":true,"spread":"0.2..0.3","extra":{"rounds":3}}',
    'BENCH_RESULT {"id":"P5","label":"io"',
    'BENCH_RESULT {"id":"P5","label":"io","value":"fast","unit":"x"}',
  ].join('\n');
  const { records, rejected } = parseBenchResults(text);
  t.deepEqual(records[0], good);
  t.like(records[1], {
    id: 'P2a',
    value: 2.5,
    ratio: 0.25,
    met: true,
    spread: '0.2..0.3',
    extra: { rounds: 3 },
  });
  t.is(records.length, 2);
  t.is(rejected.length, 2);
  t.regex(rejected[1]!.reason, /"value" is not a number/);
});

test('fields a guest record leaves out read as null', (t) => {
  const { records } = parseBenchResults('BENCH_RESULT {"id":"P5b","label":"io","value":0.95,"unit":"x"}');
  t.deepEqual(records, [
    {
      id: 'P5b',
      label: 'io',
      value: 0.95,
      unit: 'x',
      baselineLabel: null,
      baseline: null,
      ratio: null,
      target: null,
      met: null,
    },
  ]);
});
