/**
 * Start-up: `dm-remap --help`, a verb's `--help` and the man page need
 * commander and the verbs' definitions alone; each verb's implementation
 * (xstate, winston, prom-client, the schema validator, yaml...) is imported
 * when that verb runs. Checked on the project's own bundle definition, built
 * here, because the bundle decides what runs at start: a module the entry
 * reaches through static imports is hoisted and runs at every start, one
 * reached through `import()` is wrapped in an initialiser (esbuild names it
 * after its source path) that runs when that import does. So what a run
 * evaluates is the static closure (from esbuild's metafile) plus the
 * initialisers V8's coverage saw called.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';

const run = promisify(execFile);
const ENTRY = 'reconciler/cli/main.ts';

/** What the verbs run, from each room: modules whose top level a start-up must not pay for. */
const IMPLEMENTATIONS = [
  'reconciler/controller/controller.ts',
  'reconciler/controller/daemon.ts',
  'reconciler/device/machine.ts',
  'reconciler/kernel/dmsetup.ts',
  'reconciler/kernel/simulated.ts',
  'reconciler/spec/loader.ts',
  'reconciler/spec/remapdevice-validator.generated.ts',
  'reconciler/log.ts',
  'reconciler/metrics/metrics.ts',
  'reconciler/boot/bootTables.ts',
];

interface Metafile {
  inputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>;
}

interface Coverage {
  result: { url: string; functions: { functionName: string; ranges: { count: number }[] }[] }[];
}

let dir: string;
let bundle: string;
let metafile: Metafile;

test.before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-remap-test-'));
  // .mjs, as the package ships it: no package.json lookup decides its format.
  bundle = path.join(dir, 'dm-remap.mjs');
  const metaPath = path.join(dir, 'meta.json');
  const args = ['scripts/bundle.ts', '--outfile', bundle, '--metafile', metaPath];
  await run(process.execPath, ['--import=tsx/esm', ...args]);
  metafile = JSON.parse(await readFile(metaPath, 'utf8')) as Metafile;
});

test.after.always(() => rm(dir, { recursive: true, force: true }));

/** The inputs the entry reaches without crossing a dynamic import(): hoisted, so run at every start. */
function staticallyReached(): Set<string> {
  const reached = new Set([ENTRY]);
  const pending = [ENTRY];
  for (let input = pending.pop(); input !== undefined; input = pending.pop()) {
    for (const { path: imported, kind, external } of metafile.inputs[input]?.imports ?? []) {
      if (external === true || kind === 'dynamic-import' || reached.has(imported)) continue;
      reached.add(imported);
      pending.push(imported);
    }
  }
  return reached;
}

/** The source files whose top level ran in `dm-remap ARGS`. */
async function evaluatedBy(args: string[]): Promise<Set<string>> {
  const coverageDir = await mkdtemp(path.join(dir, 'coverage-'));
  await run(process.execPath, [bundle, ...args], {
    env: { ...process.env, NODE_V8_COVERAGE: coverageDir },
  }).catch(() => undefined); // the exit status is not the point here, what ran is
  const evaluated = staticallyReached();
  const bundleUrl = pathToFileURL(bundle).href;
  for (const file of await readdir(coverageDir)) {
    const coverage = JSON.parse(await readFile(path.join(coverageDir, file), 'utf8')) as Coverage;
    for (const { functionName, ranges } of coverage.result.find((s) => s.url === bundleUrl)?.functions ??
      []) {
      if (functionName in metafile.inputs && (ranges[0]?.count ?? 0) > 0) evaluated.add(functionName);
    }
  }
  return evaluated;
}

function packagesOf(inputs: Iterable<string>): string[] {
  const names = [...inputs].map((input) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1]);
  return [...new Set(names.filter((name) => name !== undefined))].sort();
}

test('the implementations named here are in the bundle (renamed? update the list)', (t) => {
  t.deepEqual(
    IMPLEMENTATIONS.filter((input) => !(input in metafile.inputs)),
    [],
  );
});

for (const args of [['--help'], ['plan', '--help'], ['run', '--help'], ['help', 'metrics']]) {
  test(`dm-remap ${args.join(' ')} evaluates commander and the verbs' definitions alone`, async (t) => {
    const evaluated = await evaluatedBy(args);
    t.deepEqual(packagesOf(evaluated), ['commander']);
    t.deepEqual(
      IMPLEMENTATIONS.filter((input) => evaluated.has(input)),
      [],
    );
  });
}

test('a verb that runs loads its implementation (the probe sees lazily loaded modules)', async (t) => {
  const evaluated = await evaluatedBy(['validate', 'examples/']);
  t.true(evaluated.has('reconciler/spec/loader.ts'));
  t.true(packagesOf(evaluated).includes('yaml'));
});
