/**
 * `dm-remap run --metrics-address`: /metrics serves each device's series as
 * its status shows it, /healthz and /readyz answer, and nothing listens
 * without the flag.
 */
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliWorld, spawnCli } from '../controller/cliHarness.js';

test('the daemon serves per-device metrics, controller metrics, /healthz and /readyz', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  t.is((await world.cli('apply', ...world.kernelArgs)).status, 0);
  const state = await world.kernel();
  const a = state.devices.find((device) => device.name === 'a');
  if (!a) return t.fail('no device a');
  a.remapStatus = { health: 'degraded', remappedBlocks: 900, spareBlocksUsed: 900, readErrors: 4 };
  await world.writeKernel(state);

  const child = spawnCli(t, [
    'run',
    ...world.kernelArgs,
    '--resync-interval',
    '1s',
    '--metrics-address',
    '127.0.0.1:0',
  ]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let base: string | undefined;
  for (let waited = 0; base === undefined && waited < 60_000; waited += 100) {
    base = /serving metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(stdout)?.[1];
    if (base === undefined) await sleep(100);
  }
  if (base === undefined) return t.fail(`no metrics address logged: ${stdout} ${stderr}`);
  let ready = 503;
  for (let waited = 0; ready !== 200 && waited < 60_000; waited += 100) {
    ready = (await fetch(`${base}/readyz`)).status;
    if (ready !== 200) await sleep(100);
  }
  t.is(ready, 200);
  t.is((await fetch(`${base}/healthz`)).status, 200);
  t.is((await fetch(`${base}/nosuch`)).status, 404);
  const response = await fetch(`${base}/metrics`);
  t.is(response.status, 200);
  t.regex(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  t.regex(text, /^dm_remap_remapped_blocks\{device="a"\} 900$/m);
  t.regex(text, /^dm_remap_io_errors_total\{device="a",direction="read"\} 4$/m);
  t.regex(text, /^dm_remap_device_condition\{device="a",type="Degraded",status="True"\} 1$/m);
  t.regex(
    text,
    /^dm_remap_device_condition_reason\{device="a",type="Degraded",reason="SpareUsageHigh"\} 1$/m,
  );
  t.regex(text, /^dm_remap_device_phase\{device="a",phase="active"\} 1$/m);
  t.regex(text, /^dm_remap_reconcile_passes_total [1-9]\d*$/m);
  child.kill('SIGTERM');
  t.is(await exited, 0);
});
