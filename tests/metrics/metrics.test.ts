/** The exporter's metrics, rendered from device statuses and controller events. */
import v8 from 'node:v8';
import vm from 'node:vm';
import test from 'ava';
import { DeviceMetrics, ControllerMetrics, METRIC_NAMES } from '../../reconciler/metrics/metrics.js';
import { conditionsOf, stampConditions } from '../../reconciler/health/conditions.js';
import { targetCounters, warningThresholds } from '../../reconciler/health/deviceStatus.js';
import type { DeviceStatus } from '../../reconciler/health/deviceStatus.js';
import { deviceSpec, remapStatus } from '../controller/builders.js';

function deviceStatus(name: string, status = remapStatus(), phase = 'active'): DeviceStatus {
  const spec = deviceSpec(name, { spareUsageWarningPercent: 75, remapRateWarningPerDay: 40 });
  return {
    name,
    phase,
    conditions: stampConditions(undefined, conditionsOf({ phase, spec, remap: status }), new Date(0)),
    target: targetCounters(status),
    ...warningThresholds(spec),
  };
}

function samples(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

test('every target counter is a per-device series with the value the status shows', async (t) => {
  const metrics = new DeviceMetrics();
  const status = remapStatus({
    health: 'degraded',
    remappedBlocks: 900,
    pendingBlocks: 2,
    spareBlocksUsed: 901,
    spareBlocksTotal: 1024,
    readErrors: 5,
    writeErrors: 7,
    remapFailures: 1,
    metadataSequence: 42,
    extra: { lost_sectors: '8', other_errors: '3', block_size: '8' },
  });
  metrics.update([deviceStatus('a', status)]);
  const text = await metrics.registry.metrics();
  const values = samples(text);
  t.is(values.get('dm_remap_remapped_blocks{device="a"}'), 900);
  t.is(values.get('dm_remap_pending_blocks{device="a"}'), 2);
  t.is(values.get('dm_remap_spare_blocks_used{device="a"}'), 901);
  t.is(values.get('dm_remap_spare_blocks_total{device="a"}'), 1024);
  t.is(values.get('dm_remap_spare_usage_warning_ratio{device="a"}'), 0.75);
  t.is(values.get('dm_remap_remap_rate_warning_per_day{device="a"}'), 40);
  t.is(values.get('dm_remap_io_errors_total{device="a",direction="read"}'), 5);
  t.is(values.get('dm_remap_io_errors_total{device="a",direction="write"}'), 7);
  t.is(values.get('dm_remap_other_errors_total{device="a"}'), 3);
  t.is(values.get('dm_remap_remap_failures_total{device="a"}'), 1);
  t.is(values.get('dm_remap_lost_sectors_total{device="a"}'), 8);
  t.is(values.get('dm_remap_metadata_sequence{device="a"}'), 42);
  t.is(values.get('dm_remap_target_health{device="a",health="degraded"}'), 1);
  t.is(values.get('dm_remap_target_health{device="a",health="ok"}'), 0);
  t.is(values.get('dm_remap_device_condition{device="a",type="Degraded",status="True"}'), 1);
  t.is(values.get('dm_remap_device_condition{device="a",type="Degraded",status="False"}'), 0);
  t.is(
    values.get('dm_remap_device_condition{device="a",type="Degraded",reason="SpareUsageHigh"}'),
    undefined,
  );
  t.is(values.get('dm_remap_device_condition_reason{device="a",type="Degraded",reason="PendingBlocks"}'), 1);
  t.is(values.get('dm_remap_device_phase{device="a",phase="active"}'), 1);
  t.is(values.get('dm_remap_device_phase{device="a",phase="waitingForDevices"}'), 0);
  t.regex(text, /^# TYPE dm_remap_io_errors_total counter$/m);
  t.regex(text, /^# TYPE dm_remap_remapped_blocks gauge$/m);
});

test('a device that goes away takes its series with it; one without a target has no counters', async (t) => {
  const metrics = new DeviceMetrics();
  metrics.update([deviceStatus('a'), deviceStatus('b')]);
  metrics.update([{ ...deviceStatus('b'), target: null, phase: 'waitingForDevices' }]);
  const text = await metrics.registry.metrics();
  t.notRegex(text, /device="a"/);
  t.notRegex(text, /dm_remap_remapped_blocks\{device="b"\}/);
  t.regex(text, /^dm_remap_device_phase\{device="b",phase="waitingForDevices"\} 1$/m);
});

test('an unknown target health or a busy phase still gets a series', async (t) => {
  const metrics = new DeviceMetrics();
  metrics.update([deviceStatus('a', remapStatus({ health: 'melting' }), 'updating.suspending')]);
  const values = samples(await metrics.registry.metrics());
  t.is(values.get('dm_remap_target_health{device="a",health="melting"}'), 1);
  t.is(values.get('dm_remap_device_phase{device="a",phase="reconciling"}'), 1);
});

test('controller metrics: passes, operations by kind and outcome, durations', async (t) => {
  const metrics = new ControllerMetrics();
  const done = metrics.passStarted();
  done();
  metrics.operationFinished('create', 'success', 0.2);
  metrics.operationFinished('create', 'error', 0.1);
  const values = samples(await metrics.registry.metrics());
  t.is(values.get('dm_remap_reconcile_passes_total'), 1);
  t.is(values.get('dm_remap_operations_total{kind="create",outcome="success"}'), 1);
  t.is(values.get('dm_remap_operations_total{kind="create",outcome="error"}'), 1);
  t.is(values.get('dm_remap_operation_duration_seconds_count{kind="create"}'), 2);
  t.is(values.get('dm_remap_reconcile_pass_duration_seconds_count'), 1);
});

test('METRIC_NAMES lists every family the exporter can print', async (t) => {
  const devices = new DeviceMetrics();
  const controller = new ControllerMetrics();
  const families = [
    ...(await devices.registry.getMetricsAsJSON()),
    ...(await controller.registry.getMetricsAsJSON()),
  ].map((metric) => metric.name);
  t.deepEqual([...families].sort(), [...METRIC_NAMES].sort());
});

test('one device updated or forgotten changes its own series and leaves the others as they were', async (t) => {
  const metrics = new DeviceMetrics();
  metrics.update([deviceStatus('a'), deviceStatus('b', remapStatus({ remappedBlocks: 3 }))]);
  metrics.updateDevice(deviceStatus('a', remapStatus({ remappedBlocks: 7, readErrors: 2 }), 'held'));
  let values = samples(await metrics.registry.metrics());
  t.is(values.get('dm_remap_remapped_blocks{device="a"}'), 7);
  t.is(values.get('dm_remap_io_errors_total{device="a",direction="read"}'), 2);
  t.is(values.get('dm_remap_device_phase{device="a",phase="held"}'), 1);
  t.is(values.get('dm_remap_device_phase{device="a",phase="active"}'), 0);
  t.is(values.get('dm_remap_remapped_blocks{device="b"}'), 3);

  metrics.updateDevice({ ...deviceStatus('b'), phase: 'failed.backingOff', target: null });
  metrics.forgetDevice('a');
  values = samples(await metrics.registry.metrics());
  t.false([...values.keys()].some((key) => key.includes('device="a"')));
  t.false(
    values.has('dm_remap_remapped_blocks{device="b"}'),
    'a device that stopped running has no counters',
  );
  t.is(values.get('dm_remap_device_phase{device="b",phase="failed.backingOff"}'), 1);
});

test('the label sets of one metric share a hidden class, whatever the number of devices', async (t) => {
  // A label set made by a spread in a loop gets a hidden class of its own in V8:
  // about 200 bytes per series, 44 series per device. Natives syntax asks V8 directly.
  v8.setFlagsFromString('--allow-natives-syntax');
  const sameHiddenClass = vm.runInThisContext('(a, b) => %HaveSameMap(a, b)') as (
    a: object,
    b: object,
  ) => boolean;
  const metrics = new DeviceMetrics();
  for (let index = 0; index < 200; index += 1) metrics.updateDevice(deviceStatus(`dev${index}`));
  for (const name of ['dm_remap_device_phase', 'dm_remap_device_condition', 'dm_remap_target_health']) {
    const { values } = await metrics.registry.getSingleMetric(name)!.get();
    const first = values[0]!.labels;
    const apart = values.filter((value) => !sameHiddenClass(first, value.labels)).length;
    t.is(apart, 0, `${name}: ${apart} of ${values.length} label sets have a hidden class of their own`);
  }
});
