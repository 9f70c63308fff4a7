/**
 * `npm run bench`: the host figures of issue 11 (P1, P3 host, P4, P6),
 * measured through the CLI of the checkout given by --tree, then the guest
 * figures (bash bench/guest.sh, when present); one table of every figure on
 * stdout and the records in .cache/bench/report.json. See bench/README.md.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { figure, parseBenchResults } from './lib/record.js';
import type { BenchRecord } from './lib/record.js';
import { formatTable } from './lib/table.js';
import type { HostContext } from './host/context.js';
import { oneShotFigures, passFigure } from './host/p1.js';
import { daemonFigures } from './host/p3p4.js';
import { validateFigures } from './host/p6.js';
import { treeAt } from './host/tree.js';
import { convergedWorld } from './host/world.js';

const USAGE = `Usage: npm run bench -- [options]

  --tree DIR       measure the built checkout DIR (its dist/, through package.json's bin; default: this one)
  --only LIST      only these figures, comma-separated: P1,P3,P4,P6 (host) and P2,P5 (guest)
  --host-only      skip the guest figures (bench/guest.sh)
  --quick          fewer repetitions and shorter windows
  --report FILE    also write the JSON report to FILE (always: .cache/bench/report.json)
  -h, --help       this text
`;

const HOST_FIGURES = ['P1', 'P3', 'P4', 'P6'];
/** bench/guest/*.sh and the figures each measures. */
const GUEST_SCRIPTS: Record<string, string[]> = { reconciler: ['P1', 'P2', 'P3'], io: ['P5'] };
const DEVICES = 1_000;

const benchRoot = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const checkout = fs.existsSync(path.join(benchRoot, 'package.json')) ? benchRoot : path.dirname(benchRoot);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      tree: { type: 'string', default: checkout },
      only: { type: 'string' },
      'host-only': { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      report: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const only = values.only?.split(',').map((id) => id.trim().toUpperCase());
  const wants = (id: string) => only === undefined || only.includes(id);
  const cacheDir = path.join(checkout, '.cache', 'bench');
  fs.mkdirSync(cacheDir, { recursive: true });
  const tree = treeAt(values.tree);
  const records: BenchRecord[] = [];
  const started = new Date();

  if (HOST_FIGURES.some(wants)) records.push(...(await hostFigures(tree, cacheDir, values.quick, wants)));

  const guestScript = path.join(checkout, 'bench', 'guest.sh');
  const scripts = Object.entries(GUEST_SCRIPTS)
    .filter(([, figures]) => figures.some(wants))
    .map(([script]) => script);
  if (!values['host-only'] && scripts.length > 0 && fs.existsSync(guestScript)) {
    records.push(...(await guestFigures(guestScript, tree.root, values.quick, scripts)));
  }

  const table = formatTable(records);
  process.stdout.write('\n' + table);
  const report = JSON.stringify(
    {
      started: started.toISOString(),
      tree: tree.root,
      quick: values.quick,
      machine: machine(),
      records,
    },
    null,
    2,
  );
  for (const file of [path.join(cacheDir, 'report.json'), values.report].filter(
    (file) => file !== undefined,
  )) {
    fs.writeFileSync(file, report + '\n');
    process.stderr.write(`bench: report written to ${file}\n`);
  }
  return 0;
}

async function hostFigures(
  tree: ReturnType<typeof treeAt>,
  cacheDir: string,
  quick: boolean,
  wants: (id: string) => boolean,
): Promise<BenchRecord[]> {
  const workDir = fs.mkdtempSync(path.join(cacheDir, 'work-'));
  const context: HostContext = {
    tree,
    cacheDir,
    workDir,
    quick,
    progress: (message) => process.stderr.write(`bench: ${message}\n`),
  };
  const records: BenchRecord[] = [];
  // One figure failing (a tree that cannot do it) is reported, and the others still run.
  const attempt = async (id: string, measure: () => Promise<BenchRecord[]>) => {
    try {
      records.push(...(await measure()));
    } catch (error) {
      context.progress(`${id} failed: ${error instanceof Error ? error.message : String(error)}`);
      records.push(figure({ id, label: `${id}: failed (see stderr)`, value: null, unit: '-' }));
    }
  };
  try {
    if (wants('P1') || wants('P3') || wants('P4')) {
      context.progress(`creating ${DEVICES} devices on a simulated kernel (one apply)`);
      let world: Awaited<ReturnType<typeof convergedWorld>> | undefined;
      await attempt('world', async () => {
        world = await convergedWorld(tree, cacheDir, workDir, DEVICES);
        return [];
      });
      if (world !== undefined) {
        const converged = world;
        if (wants('P1')) {
          await attempt('P1a', async () => [await passFigure(context, converged)]);
          await attempt('P1c', () => oneShotFigures(context, converged));
        }
        if (wants('P3') || wants('P4')) {
          await attempt('P3/P4', () =>
            daemonFigures(context, converged, { p3: wants('P3'), p4: wants('P4') }),
          );
        }
      }
    }
    if (wants('P6')) await attempt('P6', () => validateFigures(context));
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  return records;
}

/** bench/guest.sh's records; its console goes to stderr, as it comes. */
async function guestFigures(
  script: string,
  tree: string,
  quick: boolean,
  scripts: readonly string[],
): Promise<BenchRecord[]> {
  process.stderr.write(`bench: guest figures (bash bench/guest.sh ${scripts.join(' ')})\n`);
  const args = [script, '--tree', tree, ...(quick ? ['--quick'] : []), ...scripts];
  const child = spawn('bash', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    process.stderr.write(chunk);
  });
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const { records, rejected } = parseBenchResults(stdout);
  for (const { line, reason } of rejected)
    process.stderr.write(`bench: unreadable guest result (${reason}): ${line}\n`);
  if (status !== 0) process.stderr.write(`bench: bench/guest.sh exited ${status}\n`);
  return records;
}

function machine(): Record<string, unknown> {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  return {
    cpus: os.availableParallelism(),
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kernel: os.release(),
  };
}

// Interrupted: exit, so that the daemons still running are killed on the way out (host/daemon.ts).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

process.exitCode = await main();
