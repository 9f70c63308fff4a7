/**
 * P4 (the daemon's memory and idle CPU with 1,000 devices) and P3, host
 * half (spec edit → device converged), on one daemon with a resync interval
 * long enough that only the edits make it work.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile, round } from '../lib/stats.js';
import { figure } from '../lib/record.js';
import type { BenchRecord } from '../lib/record.js';
import { IDLE_NODE } from './baselines.js';
import type { HostContext } from './context.js';
import { Daemon } from './daemon.js';
import type { LogLine } from './daemon.js';
import { deviceName, specText } from './fixtures.js';
import { cpuMs, memory, waitForIdle } from './proc.js';
import type { World } from './world.js';

export async function daemonFigures(
  context: HostContext,
  world: World,
  wanted: { p3: boolean; p4: boolean },
): Promise<BenchRecord[]> {
  context.progress('P3/P4: daemon, resync every 1h');
  const daemon = await Daemon.start(world.tree.cli, [...world.args, '--resync-interval', '1h']);
  try {
    if (!(await daemon.ready(120_000)))
      throw new Error(`the daemon did not serve /metrics:\n${daemon.tail()}`);
    // A daemon that never goes quiet is measured anyway, busy as it is; the records say so.
    const idle = await waitForIdle(daemon.pid, 1_000, context.quick ? 60_000 : 120_000);
    if (!idle) context.progress('P3/P4: the daemon did not go idle after its start pass; measuring it busy');
    const records: BenchRecord[] = [];
    if (wanted.p4) records.push(...(await idleFigures(context, daemon)));
    if (wanted.p3) records.push(await editFigure(context, world, daemon));
    for (const record of records) record.extra = { ...record.extra, idleBeforeMeasuring: idle };
    return records;
  } finally {
    await daemon.stop();
  }
}

async function idleFigures(context: HostContext, daemon: Daemon): Promise<BenchRecord[]> {
  const windowMs = context.quick ? 5_000 : 15_000;
  context.progress(`P4: RSS and idle CPU over ${windowMs / 1000} s beside a bare node`);
  const bare = spawn(process.execPath, ['-e', IDLE_NODE], { stdio: 'ignore' });
  try {
    await sleep(1_000);
    const daemonCpu = cpuMs(daemon.pid);
    const bareCpu = cpuMs(bare.pid!);
    await sleep(windowMs);
    const daemonIdle = ((cpuMs(daemon.pid) - daemonCpu) / windowMs) * 100;
    const bareIdle = ((cpuMs(bare.pid!) - bareCpu) / windowMs) * 100;
    const held = memory(daemon.pid);
    const bareHeld = memory(bare.pid!);
    return [
      figure({
        id: 'P4a',
        label: 'daemon RSS, 1,000 converged devices, idle',
        value: round(held.rssKb / 1024, 1),
        unit: 'MB',
        baselineLabel: 'bare node with one timer',
        baseline: round(bareHeld.rssKb / 1024, 1),
        target: '<= 80 MB',
        extra: { peakMB: round(held.hwmKb / 1024, 1), baselinePeakMB: round(bareHeld.hwmKb / 1024, 1) },
      }),
      figure({
        id: 'P4b',
        label: 'daemon CPU between passes (resync 1h)',
        value: round(daemonIdle, 2),
        unit: '%CPU',
        baselineLabel: 'bare node with one timer',
        baseline: round(bareIdle, 2),
        target: '<= 1 %CPU',
        extra: { windowMs },
      }),
    ];
  } finally {
    bare.kill('SIGKILL');
  }
}

/** Edit one device's readRetries (it is in the table: a reload), time until the daemon logs it active. */
async function editFigure(context: HostContext, world: World, daemon: Daemon): Promise<BenchRecord> {
  const wanted = context.quick ? 20 : 60;
  const budgetMs = context.quick ? 60_000 : 180_000;
  context.progress(`P3: up to ${wanted} edits (within ${budgetMs / 1000} s)`);
  const latencies: number[] = [];
  const floors: number[] = [];
  const retries = new Map<string, number>();
  const started = Date.now();
  let timeouts = 0;
  for (let edit = 0; edit < wanted && Date.now() - started < budgetMs; edit += 1) {
    const name = deviceName((edit * 37) % world.count);
    const next = (retries.get(name) ?? 3) === 3 ? 4 : 3;
    retries.set(name, next);
    const file = `${name}.yaml`;
    const temporary = path.join(world.configDir, `.${file}.tmp`);
    fs.writeFileSync(temporary, specText(name, next), { mode: 0o644 });
    const seen = watchedLatency(world.configDir, file);
    const converged = daemon.nextLine((line) => isActive(line, name), 30_000);
    const before = performance.now();
    fs.renameSync(temporary, path.join(world.configDir, file));
    const line = await converged;
    const after = performance.now();
    const floor = await seen;
    if (line === undefined) timeouts += 1;
    else latencies.push(after - before);
    if (floor !== undefined) floors.push(floor - before);
    await waitForIdle(daemon.pid, 300, 5_000);
  }
  if (latencies.length === 0) throw new Error(`no edit converged within 30 s:\n${daemon.tail()}`);
  const p99 = percentile(latencies, 99);
  return figure({
    id: 'P3h',
    label: `spec edit -> device converged, daemon with ${world.count} devices (sim kernel): p99`,
    value: round(p99, 1),
    unit: 'ms',
    baselineLabel: 'fs.watch event for the same rename: p99',
    baseline: floors.length > 0 ? round(percentile(floors, 99), 2) : null,
    target: '<= 100 ms',
    extra: {
      edits: latencies.length,
      timeouts,
      p50: round(percentile(latencies, 50), 1),
      max: round(Math.max(...latencies), 1),
    },
  });
}

/** The log line that says the device converged (`active` as message or state). */
function isActive(line: LogLine, name: string): boolean {
  return line.device === name && (line.state === 'active' || line.message === 'active');
}

/** performance.now() when fs.watch reports `file` in `dir`, or undefined within 5 s. */
function watchedLatency(dir: string, file: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const watcher = fs.watch(dir, (_event, changed) => {
      if (changed === file) finish(performance.now());
    });
    const timer = setTimeout(() => finish(undefined), 5_000);
    const finish = (at: number | undefined) => {
      clearTimeout(timer);
      watcher.close();
      resolve(at);
    };
  });
}
