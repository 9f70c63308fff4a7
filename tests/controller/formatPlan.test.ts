import test from 'ava';
import { formatPlan } from '../../reconciler/controller/formatPlan.js';
import { plan } from '../../reconciler/controller/plan.js';
import { parseDuration } from '../../reconciler/controller/duration.js';
import { FakeObservation, MAIN_SECTORS } from './builders.js';

test('a plan reads as one block per device with a marker, the verb, the reason and the table', (t) => {
  const world = new FakeObservation()
    .spec('a')
    .spec('b')
    .ownedDevice('b')
    .deletedSpec('c')
    .ownedDevice('c')
    .build();
  t.is(
    formatPlan(plan(world)),
    [
      'a:',
      '  + create         declared but not present in the kernel',
      `                   table: 0 ${MAIN_SECTORS} remap /dev/disk/by-id/a-main /dev/disk/by-id/a-spare 6 block_size 8 read_retries 3 main_id disk-a-main`,
      '',
      'c:',
      '  = orphan         no spec declares it and its removalPolicy is Retain; left untouched (use --prune to remove)',
      '',
      'Plan: 1 create, 1 orphan.',
      '',
    ].join('\n'),
  );
});

test('a warning is printed under the operation it belongs to', (t) => {
  const world = new FakeObservation()
    .spec('a')
    .spare('/dev/disk/by-id/a-spare', { state: 'unknown', reason: 'EIO' })
    .build();
  const text = formatPlan(plan(world));
  t.regex(
    text,
    /\n {19}table: .* main_id disk-a-main\n {19}warning: cannot tell what the spare \/dev\/disk\/by-id\/a-spare \(8:32\) belongs to \(EIO\)/,
  );
});

test('an empty plan says there is nothing to do', (t) => {
  t.is(
    formatPlan(plan(new FakeObservation().spec('a').ownedDevice('a').build())),
    'No changes. The kernel matches the specs.\n',
  );
});

test('durations accept ms, s, m, h and bare seconds, and reject the rest', (t) => {
  t.is(parseDuration('500ms'), 500);
  t.is(parseDuration('2s'), 2_000);
  t.is(parseDuration('1.5m'), 90_000);
  t.is(parseDuration('1h'), 3_600_000);
  t.is(parseDuration('45'), 45_000);
  t.is(parseDuration('0s'), undefined);
  t.is(parseDuration('-1s'), undefined);
  t.is(parseDuration('soon'), undefined);
});
