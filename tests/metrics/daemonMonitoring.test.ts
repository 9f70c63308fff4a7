/** The daemon's monitoring wired to a controller on the simulated kernel, and the metrics address flag. */
import test from 'ava';
import { DaemonMonitoring } from '../../reconciler/metrics/daemonMonitoring.js';
import { parseMetricsAddress } from '../../reconciler/metrics/server.js';
import { MemorySpecs, newController, newKernel } from '../controller/simWorld.js';
import { silentLogger } from '../../reconciler/log.js';
import { CliWorld } from '../controller/cliHarness.js';

test('each operation is counted by kind and outcome, and each pass is counted', async (t) => {
  const kernel = newKernel(['a', 'b']);
  kernel.failNext('create', { code: 'EIO', times: 1, device: 'b' });
  const specs = new MemorySpecs();
  specs.set('a');
  specs.set('b');
  const monitoring = new DaemonMonitoring({ logger: silentLogger(), env: {} });
  const controller = newController(kernel, specs, {
    health: monitoring.health,
    onDeviceReport: monitoring.onDeviceReport,
  });
  t.teardown(() => controller.stop(1_000));
  await monitoring.counted(controller).reconcileAll();
  await controller.converge(5_000);
  const text = await monitoring.controllerMetrics.registry.metrics();
  t.regex(text, /^dm_remap_operations_total\{kind="create",outcome="success"\} 2$/m);
  t.regex(text, /^dm_remap_operations_total\{kind="create",outcome="error"\} 1$/m);
  t.regex(text, /^dm_remap_operation_duration_seconds_count\{kind="create"\} 3$/m);
  t.regex(text, /^dm_remap_reconcile_passes_total 1$/m);
  const devices = await monitoring.devices.registry.metrics();
  t.regex(devices, /^dm_remap_device_phase\{device="b",phase="active"\} 1$/m);
});

test('--metrics-address takes PORT, HOST:PORT or [IPv6]:PORT; the host defaults to 127.0.0.1', (t) => {
  t.deepEqual(parseMetricsAddress('9860'), { host: '127.0.0.1', port: 9860 });
  t.deepEqual(parseMetricsAddress('0.0.0.0:9860'), { host: '0.0.0.0', port: 9860 });
  t.deepEqual(parseMetricsAddress('[::1]:9860'), { host: '::1', port: 9860 });
  t.is(parseMetricsAddress('localhost:99999'), undefined);
  t.is(parseMetricsAddress('http://x:1'), undefined);
  t.is(parseMetricsAddress(''), undefined);
});

test('a bad --metrics-address is a usage error (64)', async (t) => {
  const world = await CliWorld.create(t, []);
  const run = await world.cli('run', ...world.kernelArgs, '--metrics-address', 'everywhere');
  t.is(run.status, 64);
  t.regex(run.stderr, /--metrics-address: "everywhere" is not PORT or HOST:PORT/);
});
