/**
 * The daemon's health monitor: the rules evaluated on every pass, each
 * Degraded or Failed transition logged once at warning level and handed to
 * the transition command (a real program run with execFile, its environment
 * written to a file), never on a pass that changes nothing.
 */
import test from 'ava';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HealthMonitor } from '../../reconciler/health/monitor.js';
import type { ConditionChange } from '../../reconciler/health/monitor.js';
import { transitionCommand } from '../../reconciler/health/transitionCommand.js';
import { capturingLogger, MemorySpecs, newController, newKernel } from '../controller/simWorld.js';
import { deviceSpec, remapStatus } from '../controller/builders.js';

const spec = deviceSpec('a');

test('a pass that changes nothing logs nothing; each Degraded transition is logged once, at warning', (t) => {
  const { logger, lines } = capturingLogger();
  const changes: ConditionChange[] = [];
  const monitor = new HealthMonitor({ logger, onChange: (change) => changes.push(change) });
  monitor.update({ name: 'a', phase: 'active', spec, remap: remapStatus() });
  monitor.update({ name: 'a', phase: 'active', spec, remap: remapStatus() });
  t.deepEqual(lines, [], 'a healthy device seen for the first time is not news');
  t.deepEqual(changes, []);

  const high = remapStatus({ health: 'degraded', remappedBlocks: 900, spareBlocksUsed: 900 });
  for (let pass = 0; pass < 3; pass += 1) monitor.update({ name: 'a', phase: 'active', spec, remap: high });
  t.is(lines.length, 1);
  t.like(lines[0], { level: 'warn', device: 'a', operation: 'health' });
  t.regex(
    lines[0]?.message ?? '',
    /^Degraded is True \(SpareUsageHigh\), was False \(Healthy\): spare 87% used/,
  );
  t.deepEqual(
    changes.map((change) => [
      change.device,
      change.condition.type,
      change.condition.status,
      change.condition.reason,
    ]),
    [['a', 'Degraded', 'True', 'SpareUsageHigh']],
  );

  monitor.update({ name: 'a', phase: 'active', spec, remap: remapStatus() });
  t.is(lines.length, 2);
  t.regex(lines[1]?.message ?? '', /^Degraded is False \(Healthy\), was True \(SpareUsageHigh\)/);
  t.like(changes[1], { previous: { status: 'True', reason: 'SpareUsageHigh' } });
});

test('a device already Degraded or Failed when first seen is reported; a forgotten device starts afresh', (t) => {
  const { logger, lines } = capturingLogger();
  const monitor = new HealthMonitor({ logger });
  monitor.update({ name: 'a', phase: 'active', spec, remap: remapStatus({ health: 'metadata_error' }) });
  t.deepEqual(
    lines.map((line) => line.message.split(':')[0]),
    ['Failed is True (MetadataError)'],
  );
  monitor.forget('a');
  t.deepEqual(monitor.devices(), []);
});

test('the transition command runs without a shell, once per transition, with the change in its environment', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dm-remap-hook-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const script = path.join(dir, 'hook; echo not-a-shell');
  await fs.writeFile(
    script,
    `#!/bin/sh\nenv | grep '^DM_REMAP_' | sort >> "${dir}/calls"\necho --- >> "${dir}/calls"\n`,
    {
      mode: 0o755,
    },
  );
  const { logger } = capturingLogger();
  const run = transitionCommand(script, { logger, env: { PATH: process.env.PATH ?? '' } });
  const monitor = new HealthMonitor({ logger, onChange: run.handle });
  monitor.update({ name: 'a', phase: 'active', spec, remap: remapStatus({ pendingBlocks: 1 }) });
  monitor.update({ name: 'a', phase: 'active', spec, remap: remapStatus({ pendingBlocks: 1 }) });
  await run.idle();
  const calls = (await fs.readFile(path.join(dir, 'calls'), 'utf8')).split('---\n').filter(Boolean);
  t.is(calls.length, 1);
  t.regex(calls[0] ?? '', /^DM_REMAP_CONDITION=Degraded$/m);
  t.regex(calls[0] ?? '', /^DM_REMAP_DEVICE=a$/m);
  t.regex(calls[0] ?? '', /^DM_REMAP_REASON=PendingBlocks$/m);
  t.regex(calls[0] ?? '', /^DM_REMAP_STATUS=True$/m);
  t.regex(calls[0] ?? '', /^DM_REMAP_PREVIOUS_STATUS=$/m);
  t.regex(calls[0] ?? '', /^DM_REMAP_MESSAGE=1 pending block: /m);
});

test('a transition command that fails is logged, and the daemon goes on', async (t) => {
  const { logger, lines } = capturingLogger();
  const run = transitionCommand('/nonexistent/dm-remap-hook', { logger, env: {} });
  const monitor = new HealthMonitor({ logger, onChange: run.handle });
  monitor.update({ name: 'a', phase: 'active', spec, remap: remapStatus({ health: 'failing' }) });
  await run.idle();
  t.true(
    lines.some(
      (line) =>
        line.level === 'warn' &&
        /^--on-condition-change \/nonexistent\/dm-remap-hook failed for Failed: /.test(line.message),
    ),
    JSON.stringify(lines),
  );
});

test('wired into the controller, every pass evaluates the rules from the fresh target status', async (t) => {
  const kernel = newKernel(['a']);
  const specs = new MemorySpecs();
  specs.set('a');
  const { logger, lines } = capturingLogger();
  const monitor = new HealthMonitor({ logger });
  const controller = newController(kernel, specs, { logger, health: monitor });
  t.teardown(() => controller.stop(1_000));
  await controller.converge(5_000);
  t.like(monitor.devices()[0], { name: 'a', phase: 'active' });
  t.is(monitor.devices()[0]?.conditions.find((c) => c.type === 'Degraded')?.status, 'False');

  kernel.setRemapStatus('a', { pendingBlocks: 3, health: 'degraded' });
  await controller.converge(5_000);
  const degraded = monitor.devices()[0]?.conditions.find((c) => c.type === 'Degraded');
  t.like(degraded, { status: 'True', reason: 'PendingBlocks' });
  t.is(lines.filter((line) => line.operation === 'health').length, 1);
});

test('remaps over the last 24 hours, as the daemon watched them, are Degraded/RemapRateHigh at remapRateWarningPerDay', (t) => {
  const { logger } = capturingLogger();
  let now = new Date('2026-12-01T00:00:00Z');
  const monitor = new HealthMonitor({ logger, now: () => now });
  const rated = deviceSpec('a', { remapRateWarningPerDay: 10 });
  const at = (hours: number, remapped: number) => {
    now = new Date(Date.UTC(2026, 11, 1, hours));
    const remap = remapStatus({ remappedBlocks: remapped, spareBlocksUsed: remapped });
    return monitor
      .update({ name: 'a', phase: 'active', spec: rated, remap })
      .find((c) => c.type === 'Degraded');
  };
  t.like(at(0, 0), { status: 'False' });
  t.like(at(1, 5), { status: 'False' });
  t.like(at(2, 12), { status: 'True', reason: 'RemapRateHigh' });
  t.is(monitor.devices()[0]?.remapsLastDay, 12);
  t.like(at(25, 13), { status: 'False' }, 'the first hours fell out of the window');
  t.is(monitor.devices()[0]?.remapsLastDay, 8);
  t.like(at(26, 2), { status: 'False' }, 'fewer remaps than before (a new spare): counted afresh');
  t.is(monitor.devices()[0]?.remapsLastDay, 0);
});

test('listeners hear of a device only when its view changed: a steady pass tells them nothing', (t) => {
  const monitor = new HealthMonitor({ logger: capturingLogger().logger });
  const heard: [string, string | undefined][] = [];
  monitor.subscribe((name, status) => heard.push([name, status?.phase]));
  monitor.update({ name: 'a', phase: 'active', spec, remap: remapStatus() });
  monitor.update({ name: 'b', phase: 'active', spec, remap: remapStatus() });
  for (let pass = 0; pass < 3; pass += 1) {
    monitor.update({ name: 'a', phase: 'active', spec, remap: remapStatus() });
    monitor.update({ name: 'b', phase: 'active', spec, remap: remapStatus() });
  }
  t.deepEqual(heard, [
    ['a', 'active'],
    ['b', 'active'],
  ]);
  monitor.update({ name: 'a', phase: 'active', spec, remap: remapStatus({ remappedBlocks: 1 }) });
  monitor.update({ name: 'b', phase: 'failed.backingOff', spec });
  monitor.forget('a');
  monitor.forget('a');
  t.deepEqual(heard.slice(2), [
    ['a', 'active'],
    ['b', 'failed.backingOff'],
    ['a', undefined],
  ]);
  t.deepEqual(
    monitor.devices().map((device) => device.name),
    ['b'],
  );
});

test('conditions a previous daemon left are what a device was: only a change is news, and its time is kept', (t) => {
  const { logger, lines } = capturingLogger();
  const changes: ConditionChange[] = [];
  const since = new Date('2026-12-01T00:00:00Z');
  const high = remapStatus({ health: 'degraded', remappedBlocks: 900, spareBlocksUsed: 900 });
  const earlier = new HealthMonitor({ logger: capturingLogger().logger, now: () => since });
  const left = earlier.update({ name: 'a', phase: 'active', spec, remap: high });
  const healthyThen = earlier.update({ name: 'b', phase: 'active', spec, remap: remapStatus() });

  const monitor = new HealthMonitor({
    logger,
    onChange: (change) => changes.push(change),
    previous: new Map([
      ['a', left],
      ['b', healthyThen],
    ]),
  });
  const a = monitor.update({ name: 'a', phase: 'active', spec, remap: high });
  t.deepEqual(lines, [], 'still Degraded as before the restart');
  t.is(a.find((condition) => condition.type === 'Degraded')?.lastTransitionTime, since.toISOString());
  monitor.update({ name: 'b', phase: 'active', spec, remap: high });
  t.deepEqual(
    changes.map((change) => [change.device, change.condition.status, change.previous?.status]),
    [['b', 'True', 'False']],
    'b degraded while the daemon was down: a transition from what it was',
  );
  // Inherited once: a device forgotten and seen again starts afresh.
  monitor.forget('a');
  monitor.update({ name: 'a', phase: 'active', spec, remap: high });
  t.is(changes.length, 2);
});
