/** The health rules: from a device's phase, spec and target status to Ready/Progressing/Degraded/Failed. */
import test from 'ava';
import { conditionsOf, healthy, stampConditions } from '../../reconciler/health/conditions.js';
import type { Condition, ConditionType, HealthInput } from '../../reconciler/health/conditions.js';
import { deviceSpec, remapStatus } from '../controller/builders.js';

function input(overrides: Partial<HealthInput> = {}): HealthInput {
  return { phase: 'active', spec: deviceSpec('a'), remap: remapStatus(), ...overrides };
}

function condition<C extends Omit<Condition, 'lastTransitionTime'>>(
  conditions: readonly C[],
  type: ConditionType,
): C {
  const found = conditions.find((candidate) => candidate.type === type);
  if (!found) throw new Error(`no ${type} condition`);
  return found;
}

test('a running device with a healthy target is Ready and neither Degraded nor Failed', (t) => {
  const conditions = conditionsOf(input());
  t.deepEqual(
    conditions.map((c) => [c.type, c.status, c.reason]),
    [
      ['Ready', 'True', 'Active'],
      ['Progressing', 'False', 'Converged'],
      ['Degraded', 'False', 'Healthy'],
      ['Failed', 'False', 'Healthy'],
    ],
  );
  t.true(healthy(conditions));
});

test('remapped blocks alone (target health "degraded") are what the target is for: not Degraded', (t) => {
  const remap = remapStatus({ health: 'degraded', remappedBlocks: 7, spareBlocksUsed: 7 });
  t.is(condition(conditionsOf(input({ remap })), 'Degraded').status, 'False');
});

test('spare usage at the warning threshold is Degraded/SpareUsageHigh; just below it is not', (t) => {
  const spec = deviceSpec('a', { spareUsageWarningPercent: 80 });
  const at = remapStatus({
    health: 'degraded',
    remappedBlocks: 800,
    spareBlocksUsed: 800,
    spareBlocksTotal: 1000,
  });
  const degraded = condition(conditionsOf(input({ spec, remap: at })), 'Degraded');
  t.like(degraded, { status: 'True', reason: 'SpareUsageHigh' });
  t.is(degraded.message, 'spare 80% used (800 of 1000 blocks), at or over the warning threshold of 80%');
  const below = { ...at, spareBlocksUsed: 799 };
  t.is(condition(conditionsOf(input({ spec, remap: below })), 'Degraded').status, 'False');
  const lowered = deviceSpec('a', { spareUsageWarningPercent: 50 });
  t.like(condition(conditionsOf(input({ spec: lowered, remap: below })), 'Degraded'), {
    status: 'True',
    reason: 'SpareUsageHigh',
  });
});

test('pending blocks are Degraded/PendingBlocks and outrank a high spare usage', (t) => {
  const remap = remapStatus({ pendingBlocks: 2, spareBlocksUsed: 900, spareBlocksTotal: 1000 });
  const degraded = condition(conditionsOf(input({ remap })), 'Degraded');
  t.like(degraded, { status: 'True', reason: 'PendingBlocks' });
  t.is(
    degraded.message,
    '2 pending blocks: main could not read them and no write has replaced them; ' +
      'spare 90% used (900 of 1000 blocks), at or over the warning threshold of 80%',
  );
});

test('a full spare, lost sectors and remap failures are Degraded, each with its own reason', (t) => {
  const full = remapStatus({ health: 'spare_full', spareBlocksUsed: 1000, spareBlocksTotal: 1000 });
  t.like(condition(conditionsOf(input({ remap: full })), 'Degraded'), {
    status: 'True',
    reason: 'SpareFull',
  });
  const lost = remapStatus({ health: 'degraded', extra: { lost_sectors: '8', other_errors: '0' } });
  const lostDegraded = condition(conditionsOf(input({ remap: lost })), 'Degraded');
  t.like(lostDegraded, { status: 'True', reason: 'LostSectors' });
  t.regex(lostDegraded.message, /^8 sectors lost/);
  const failures = remapStatus({ remapFailures: 3 });
  t.like(condition(conditionsOf(input({ remap: failures })), 'Degraded'), {
    status: 'True',
    reason: 'RemapFailures',
  });
  t.false(healthy(conditionsOf(input({ remap: full }))));
});

test('remaps in the last day at or over remapRateWarningPerDay are Degraded/RemapRateHigh; off without the field', (t) => {
  const spec = deviceSpec('a', { remapRateWarningPerDay: 10 });
  const remap = remapStatus({ health: 'degraded', remappedBlocks: 12, spareBlocksUsed: 12 });
  const degraded = condition(conditionsOf(input({ spec, remap, remapsLastDay: 10 })), 'Degraded');
  t.like(degraded, { status: 'True', reason: 'RemapRateHigh' });
  t.is(degraded.message, '10 blocks remapped in the last 24 hours, at or over the warning rate of 10 a day');
  t.is(condition(conditionsOf(input({ spec, remap, remapsLastDay: 9 })), 'Degraded').status, 'False');
  t.is(condition(conditionsOf(input({ remap, remapsLastDay: 500 })), 'Degraded').status, 'False');
});

test('a metadata error or a failing main is Failed, with its own reason, and not Ready', (t) => {
  for (const [health, reason] of [
    ['metadata_error', 'MetadataError'],
    ['failing', 'MainFailing'],
  ] as const) {
    const conditions = conditionsOf(input({ remap: remapStatus({ health }) }));
    t.like(condition(conditions, 'Failed'), { status: 'True', reason });
    t.like(condition(conditions, 'Ready'), { status: 'False', reason });
    t.false(healthy(conditions));
  }
});

test('a health value this reconciler does not know is Degraded/UnknownHealth, never healthy', (t) => {
  const conditions = conditionsOf(input({ remap: remapStatus({ health: 'melting' }) }));
  t.like(condition(conditions, 'Degraded'), { status: 'True', reason: 'UnknownHealth' });
  t.regex(condition(conditions, 'Degraded').message, /health=melting/);
  t.false(healthy(conditions));
});

test('the lifecycle: pending work is Progressing, a refusal Failed, a wait neither Ready nor Failed', (t) => {
  const pending = conditionsOf(
    input({
      phase: 'pending',
      remap: undefined,
      operation: { kind: 'create', reason: 'not created' } as never,
    }),
  );
  t.like(condition(pending, 'Ready'), { status: 'False', reason: 'Pending' });
  t.like(condition(pending, 'Progressing'), { status: 'True', reason: 'Create', message: 'not created' });
  t.like(condition(pending, 'Degraded'), { status: 'Unknown', reason: 'NotRunning' });

  const refused = conditionsOf(
    input({ phase: 'failed.refused', operation: { kind: 'refuse', code: 'wouldStrandData', reason: 'no' } }),
  );
  t.like(condition(refused, 'Failed'), { status: 'True', reason: 'WouldStrandData', message: 'no' });
  t.like(condition(refused, 'Ready'), { status: 'False', reason: 'Refused' });

  const waiting = conditionsOf(
    input({ phase: 'waitingForDevices', remap: undefined, operation: { kind: 'wait', reason: 'no disk' } }),
  );
  t.like(condition(waiting, 'Ready'), { status: 'False', reason: 'WaitingForDevices', message: 'no disk' });
  t.like(condition(waiting, 'Failed'), { status: 'False' });

  const backingOff = conditionsOf(
    input({ phase: 'failed.backingOff', failure: { during: 'creating', code: 'EIO', message: 'boom' } }),
  );
  t.like(condition(backingOff, 'Ready'), { status: 'False', reason: 'BackingOff' });
  t.like(condition(backingOff, 'Progressing'), {
    status: 'True',
    reason: 'Retrying',
    message: 'creating: boom (EIO)',
  });

  const absent = conditionsOf(
    input({ phase: 'absent', remap: undefined, spec: deviceSpec('a', { state: 'absent' }) }),
  );
  t.like(condition(absent, 'Ready'), { status: 'True', reason: 'Absent' });
  t.like(condition(absent, 'Degraded'), { status: 'False', reason: 'NotRunning' });
  t.true(healthy(absent));
});

test('lastTransitionTime moves only when a status changes; a new reason alone keeps it', (t) => {
  const t0 = new Date('2026-12-01T00:00:00Z');
  const t1 = new Date('2026-12-02T00:00:00Z');
  const first = stampConditions(undefined, conditionsOf(input()), t0);
  t.true(first.every((c) => c.lastTransitionTime === t0.toISOString()));

  const pending = conditionsOf(input({ remap: remapStatus({ pendingBlocks: 1 }) }));
  const second = stampConditions(first, pending, t1);
  t.is(condition(second, 'Degraded').lastTransitionTime, t1.toISOString());
  t.is(condition(second, 'Ready').lastTransitionTime, t0.toISOString());

  const full = conditionsOf(input({ remap: remapStatus({ pendingBlocks: 1, health: 'spare_full' }) }));
  const third = stampConditions(second, full, new Date('2026-12-03T00:00:00Z'));
  t.like(condition(third, 'Degraded'), { reason: 'SpareFull', lastTransitionTime: t1.toISOString() });
});
