/** P6: `dm-remap validate` of 10,000 spec files, wall time and peak RSS. */
import { median, round, spreadOf } from '../lib/stats.js';
import { figure } from '../lib/record.js';
import type { BenchRecord } from '../lib/record.js';
import { READ_ALL_ONCE } from './baselines.js';
import type { HostContext } from './context.js';
import { specFixture } from './fixtures.js';
import { measureNode, measureScript } from './measure.js';
import type { Measured } from './measure.js';

const FILES = 10_000;

export async function validateFigures(context: HostContext): Promise<BenchRecord[]> {
  const fixture = specFixture(context.cacheDir, FILES, false);
  const repetitions = context.quick ? 1 : 3;
  context.progress(`P6: validate ${FILES} files x${repetitions}`);
  const runs: Measured[] = [];
  const floor: Measured[] = [];
  const args = process.getuid?.() === 0 ? [] : ['--allow-insecure-permissions'];
  for (let index = 0; index < repetitions; index += 1) {
    floor.push(await measureScript(READ_ALL_ONCE, [fixture.configDir]));
    const run = await measureNode([context.tree.cli, 'validate', ...args, fixture.configDir]);
    if (run.status !== 0)
      throw new Error(`validate exited ${run.status}:\n${run.stdout.slice(-500)}${run.stderr.slice(-1000)}`);
    runs.push(run);
  }
  const walls = runs.map((run) => run.wallMs);
  const peaks = runs.map((run) => run.maxRssKb / 1024);
  return [
    figure({
      id: 'P6a',
      label: `validate ${FILES} spec files: wall`,
      value: round(median(walls), 0),
      unit: 'ms',
      baselineLabel: 'node readFileSync of the same files',
      baseline: round(median(floor.map((run) => run.wallMs)), 0),
      target: '<= 2000 ms',
      spread: spreadOf(walls, 0),
      extra: {
        cpuMs: round(median(runs.map((run) => run.cpuMs)), 0),
        baselineCpuMs: round(median(floor.map((run) => run.cpuMs)), 0),
        repetitions,
      },
    }),
    figure({
      id: 'P6b',
      label: `validate ${FILES} spec files: peak RSS`,
      value: round(Math.max(...peaks), 1),
      unit: 'MB',
      baselineLabel: 'node readFileSync of the same files',
      baseline: round(Math.max(...floor.map((run) => run.maxRssKb / 1024)), 1),
      target: '<= 100 MB',
    }),
  ];
}
