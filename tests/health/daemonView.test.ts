/** The daemon's view in /run/dm-remap/status.json: written atomically when it changes, read by `status`. */
import test from 'ava';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  DaemonViewWriter,
  readDaemonView,
  readPreviousConditions,
} from '../../reconciler/health/daemonView.js';
import type { DeviceStatus } from '../../reconciler/health/deviceStatus.js';
import { conditionsOf, stampConditions } from '../../reconciler/health/conditions.js';
import { silentLogger } from '../../reconciler/log.js';
import { CliWorld } from '../controller/cliHarness.js';
import { deviceSpec, remapStatus } from '../controller/builders.js';

function device(name: string, since: Date): DeviceStatus {
  const conditions = conditionsOf({ phase: 'active', spec: deviceSpec(name), remap: remapStatus() });
  return { name, phase: 'active', conditions: stampConditions(undefined, conditions, since), target: null };
}

test('the writer replaces the file only when the view changes; the reader gives each device its conditions', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dm-remap-view-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'status.json');
  const writer = new DaemonViewWriter(file, silentLogger());
  const since = new Date('2026-12-01T00:00:00Z');
  writer.update([device('a', since)]);
  await writer.idle();
  const first = await fs.stat(file);
  writer.update([device('a', since)]);
  await writer.idle();
  t.is((await fs.stat(file)).mtimeMs, first.mtimeMs, 'an unchanged view is not written again');
  t.deepEqual(await fs.readdir(dir), ['status.json']);
  const view = await readDaemonView(file);
  t.is(view?.get('a')?.conditions[0]?.lastTransitionTime, since.toISOString());
});

test('a view left by a daemon that is gone, or unreadable, is ignored', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dm-remap-view-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'status.json');
  t.is(await readDaemonView(file), undefined);
  await fs.writeFile(file, '{"pid": 2147483646, "devices": []}');
  t.is(await readDaemonView(file), undefined);
  await fs.writeFile(file, 'not json');
  t.is(await readDaemonView(file), undefined);
});

test('a stopping daemon keeps its view as the last one; the next daemon starts from it, or from a crashed one', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dm-remap-view-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'status.json');
  t.deepEqual(await readPreviousConditions(file), new Map(), 'a first start inherits nothing');
  const writer = new DaemonViewWriter(file, silentLogger());
  const since = new Date('2026-12-01T00:00:00Z');
  writer.update([device('a', since)]);
  await writer.remove();
  t.deepEqual(
    await fs.readdir(dir),
    ['status.last.json'],
    'status no longer sees a view once the daemon stopped',
  );
  t.is(await readDaemonView(file), undefined);
  const kept = await readPreviousConditions(file);
  t.deepEqual([...kept.keys()], ['a']);
  t.is(kept.get('a')?.[0]?.lastTransitionTime, since.toISOString());

  // A daemon that crashed left its view in place, newer than the last one kept.
  await fs.writeFile(file, JSON.stringify({ pid: 2147483646, devices: [device('b', since)] }));
  t.deepEqual([...(await readPreviousConditions(file)).keys()], ['b']);
  // A view whose daemon is alive is not a previous one.
  await fs.writeFile(file, JSON.stringify({ pid: process.pid, devices: [device('c', since)] }));
  t.deepEqual([...(await readPreviousConditions(file)).keys()], ['a']);
});

test('status beside a daemon: lastTransitionTime and AGE come from its view', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  t.is((await world.cli('apply', ...world.kernelArgs)).status, 0);
  const since = new Date(Date.now() - 3 * 3_600_000);
  const stateDir = `${world.simFile}.state`;
  await fs.writeFile(
    path.join(stateDir, 'status.json'),
    JSON.stringify({ pid: process.pid, devices: [device('a', since)] }),
  );
  const json = await world.cli('status', ...world.kernelArgs, '-o', 'json');
  t.is(json.status, 0, json.stderr);
  const ready = (JSON.parse(json.stdout) as { devices: DeviceStatus[] }).devices[0]?.conditions[0];
  t.is(ready?.lastTransitionTime, since.toISOString());
  const table = await world.cli('status', ...world.kernelArgs);
  t.regex(table.stdout, /^a +active +True .* 3h$/m);
});

test("status beside a daemon: the remaps it watched over the last day meet the spec's remapRateWarningPerDay", async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a', ['remapRateWarningPerDay: 5']);
  t.is((await world.cli('apply', ...world.kernelArgs)).status, 0);
  await fs.writeFile(
    path.join(`${world.simFile}.state`, 'status.json'),
    JSON.stringify({ pid: process.pid, devices: [{ ...device('a', new Date()), remapsLastDay: 7 }] }),
  );
  const run = await world.cli('status', ...world.kernelArgs);
  t.is(run.status, 1);
  t.regex(
    run.stdout,
    /^a: Degraded\/RemapRateHigh: 7 blocks remapped in the last 24 hours, at or over the warning rate of 5 a day$/m,
  );
});
