/**
 * Runs node programs as a user does (child processes) and measures them:
 * wall time from the parent, CPU time and peak RSS from the child itself,
 * through a preload that writes process.resourceUsage() to a file on exit,
 * so the figures hold whatever the program does and however it is built.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Measured {
  status: number | null;
  wallMs: number;
  cpuMs: number;
  maxRssKb: number;
  stdout: string;
  stderr: string;
}

const USAGE_FILE_VARIABLE = 'DM_REMAP_BENCH_USAGE_FILE';

/** An ES module, given as a data: URL, that records the process's resource usage as it exits. */
const USAGE_PRELOAD =
  'data:text/javascript,' +
  encodeURIComponent(
    [
      "import { writeFileSync } from 'node:fs';",
      `const file = process.env.${USAGE_FILE_VARIABLE};`,
      'if (file) process.on("exit", () => writeFileSync(file, JSON.stringify(process.resourceUsage())));',
    ].join('\n'),
  );

interface ResourceUsage {
  userCPUTime: number;
  systemCPUTime: number;
  maxRSS: number;
}

/** Run `node ...nodeArgs` to its end and measure it. */
export async function measureNode(
  nodeArgs: readonly string[],
  options: { cwd?: string } = {},
): Promise<Measured> {
  const usageFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dm-remap-bench-')), 'usage.json');
  try {
    const started = performance.now();
    const { status, stdout, stderr } = await collect(
      spawn(process.execPath, ['--import', USAGE_PRELOAD, ...nodeArgs], {
        cwd: options.cwd,
        env: { ...process.env, [USAGE_FILE_VARIABLE]: usageFile },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const wallMs = performance.now() - started;
    if (!fs.existsSync(usageFile)) {
      throw new Error(`node ${nodeArgs.join(' ')} exited (${status}) without its usage:\n${stderr}`);
    }
    const usage = JSON.parse(fs.readFileSync(usageFile, 'utf8')) as ResourceUsage;
    return {
      status,
      wallMs,
      cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
      maxRssKb: usage.maxRSS,
      stdout,
      stderr,
    };
  } finally {
    fs.rmSync(path.dirname(usageFile), { recursive: true, force: true });
  }
}

function collect(
  child: ReturnType<typeof spawn>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Run a small program given as source text (a baseline) and measure it. */
export async function measureScript(source: string, args: readonly string[] = []): Promise<Measured> {
  // With -e, the arguments after -- are process.argv[1...].
  const run = await measureNode(['--input-type=module', '-e', source, '--', ...args]);
  if (run.status !== 0) throw new Error(`baseline program exited ${run.status}:\n${run.stderr.slice(-1000)}`);
  return run;
}
