/**
 * Where a `node --cpu-prof` profile spent its time: self time summed by
 * function and script, largest first. Usage:
 *   npx tsx bench/lib/cpuprofile.ts FILE.cpuprofile [TOP]
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  /** µs between a sample and the one before it. */
  timeDeltas?: number[];
}

export interface SelfTime {
  /** `function url:line`, `(garbage collector)`, `(program)`... */
  where: string;
  ms: number;
  share: number;
  /** The script it ran in (node_modules/<package> for a dependency); absent for V8's own entries. */
  script?: string;
}

/** Self time by function, from the samples (each sample is charged the delta that follows it). */
export function selfTimes(profile: CpuProfile): SelfTime[] {
  const placeOf = new Map<number, { where: string; script?: string }>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const file = url.replace(/^file:\/\//, '');
    placeOf.set(
      node.id,
      url === '' ? { where: name } : { where: `${name} ${file}:${lineNumber + 1}`, script: scriptOf(file) },
    );
  }
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const totals = new Map<string, SelfTime>();
  let total = 0;
  for (let index = 0; index < samples.length; index += 1) {
    const micros = deltas[index + 1] ?? 0;
    const place = placeOf.get(samples[index]!) ?? { where: '(unknown)' };
    const entry = totals.get(place.where) ?? { ...place, ms: 0, share: 0 };
    entry.ms += micros / 1000;
    totals.set(place.where, entry);
    total += micros;
  }
  return [...totals.values()]
    .map((entry) => ({ ...entry, share: total === 0 ? 0 : (entry.ms * 1000) / total }))
    .sort((a, b) => b.ms - a.ms);
}

/** Self time summed by script (package or file): which dependency the time goes to. */
export function selfTimesByScript(profile: CpuProfile): SelfTime[] {
  const byScript = new Map<string, number>();
  let total = 0;
  for (const entry of selfTimes(profile)) {
    const script = entry.script ?? entry.where;
    byScript.set(script, (byScript.get(script) ?? 0) + entry.ms);
    total += entry.ms;
  }
  return [...byScript]
    .map(([where, ms]) => ({ where, ms, share: total === 0 ? 0 : ms / total }))
    .sort((a, b) => b.ms - a.ms);
}

/** node_modules/<package> for a dependency, the file otherwise. */
function scriptOf(file: string): string {
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  return dependency ? `node_modules/${dependency[1]}` : file;
}

function formatRows(rows: readonly SelfTime[], top: number): string {
  return rows
    .slice(0, top)
    .map(
      (row) =>
        `${row.ms.toFixed(1).padStart(9)} ms ${(row.share * 100).toFixed(1).padStart(5)}%  ${row.where}`,
    )
    .join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, top = '25'] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write('usage: tsx bench/lib/cpuprofile.ts FILE.cpuprofile [TOP]\n');
    process.exit(64);
  }
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  process.stdout.write(`${((profile.endTime - profile.startTime) / 1000).toFixed(0)} ms profiled\n`);
  process.stdout.write(`\nself time by function:\n${formatRows(selfTimes(profile), Number(top))}\n`);
  process.stdout.write(`\nself time by script:\n${formatRows(selfTimesByScript(profile), Number(top))}\n`);
}
