/**
 * P1, host half: the CPU a steady pass of the daemon costs with 1,000
 * converged devices on the simulated kernel, and a steady `apply` and `plan`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { median, round, spreadOf } from '../lib/stats.js';
import { figure } from '../lib/record.js';
import type { BenchRecord } from '../lib/record.js';
import { PASS_FLOOR, READ_ALL_ONCE } from './baselines.js';
import type { HostContext } from './context.js';
import { Daemon } from './daemon.js';
import { measureNode, measureScript } from './measure.js';
import type { Measured } from './measure.js';
import { cpuMs } from './proc.js';
import type { World } from './world.js';

/** Short enough that a fast pass runs many times in the window; a slow one runs back to back. */
const RESYNC_INTERVAL = '1s';
const MIN_PASSES = 5;

async function countedPasses(daemon: Daemon): Promise<number> {
  const passes = await daemon.passes(300_000);
  if (passes === undefined) throw new Error(`/metrics did not answer within 5 min:\n${daemon.tail()}`);
  return passes;
}

export async function passFigure(context: HostContext, world: World): Promise<BenchRecord> {
  const windowMs = context.quick ? 10_000 : 30_000;
  context.progress(`P1: daemon, resync every ${RESYNC_INTERVAL}, CPU over ${windowMs / 1000} s`);
  const daemon = await Daemon.start(world.tree.cli, [...world.args, '--resync-interval', RESYNC_INTERVAL]);
  try {
    if (!(await daemon.ready(120_000)))
      throw new Error(`the daemon did not serve /metrics:\n${daemon.tail()}`);
    // Past the start pass and into the steady ones.
    const warmDeadline = Date.now() + 300_000;
    while (((await daemon.passes()) ?? 0) < 3) {
      if (Date.now() > warmDeadline || !daemon.running) throw new Error(`no third pass:\n${daemon.tail()}`);
      await sleep(250);
    }
    // The counter is read through the daemon's own event loop, which a slow pass holds:
    // each CPU reading is taken as the answer comes, so counter and CPU describe one window.
    const passesBefore = await countedPasses(daemon);
    const cpuBefore = cpuMs(daemon.pid);
    const wallBefore = performance.now();
    let passes = 0;
    let cpu = 0;
    // At least MIN_PASSES passes, so the one the window cuts at each end weighs little; at most 4 windows.
    for (let windows = 0; windows < 4 && passes < MIN_PASSES; windows += 1) {
      await sleep(windowMs);
      passes = (await countedPasses(daemon)) - passesBefore;
      cpu = cpuMs(daemon.pid) - cpuBefore;
    }
    const wallMs = performance.now() - wallBefore;
    const floor = await passFloor(world);
    return figure({
      id: 'P1a',
      label: `daemon CPU per steady pass, ${world.count} devices (sim kernel)`,
      value: passes > 0 ? round(cpu / passes, 1) : null,
      unit: 'ms',
      baselineLabel: 'stat each spec + read the sim kernel file (node)',
      baseline: round(floor, 2),
      target: '<= 50 ms',
      extra: { passes, cpuMs: cpu, windowMs: Math.round(wallMs), busy: round(cpu / wallMs, 3) },
    });
  } finally {
    await daemon.stop();
  }
}

async function passFloor(world: World): Promise<number> {
  const run = await measureScript(PASS_FLOOR, [world.configDir, world.kernelFile, '20']);
  return median(JSON.parse(run.stdout) as number[]);
}

/** A steady `apply` and `plan`: nothing to do, so all of it is overhead. */
export async function oneShotFigures(context: HostContext, world: World): Promise<BenchRecord[]> {
  const repetitions = context.quick ? 1 : 3;
  const floor: Measured[] = [];
  for (let index = 0; index < repetitions; index += 1) {
    floor.push(await measureScript(READ_ALL_ONCE, [world.configDir, world.kernelFile]));
  }
  const records: BenchRecord[] = [];
  for (const verb of ['apply', 'plan'] as const) {
    context.progress(`P1: steady ${verb} x${repetitions}`);
    const runs: Measured[] = [];
    for (let index = 0; index < repetitions; index += 1) {
      const run = await measureNode([world.tree.cli, verb, ...world.args, '--log-format', 'json']);
      if (run.status !== 0)
        throw new Error(`steady ${verb} exited ${run.status}:\n${run.stderr.slice(-1000)}`);
      runs.push(run);
    }
    const cpus = runs.map((run) => run.cpuMs);
    // CPU, not wall, is the figure: on a shared machine wall time follows the others' load.
    records.push(
      figure({
        id: verb === 'apply' ? 'P1c' : 'P1d',
        label: `steady \`${verb}\`, ${world.count} converged devices: CPU`,
        value: round(median(cpus), 0),
        unit: 'ms',
        baselineLabel: 'node reading every spec + the sim kernel file once',
        baseline: round(median(floor.map((run) => run.cpuMs)), 0),
        spread: spreadOf(cpus, 0),
        extra: {
          wallMs: round(median(runs.map((run) => run.wallMs)), 0),
          baselineWallMs: round(median(floor.map((run) => run.wallMs)), 0),
          maxRssMB: round(Math.max(...runs.map((run) => run.maxRssKb)) / 1024, 1),
          repetitions,
        },
      }),
    );
  }
  return records;
}
