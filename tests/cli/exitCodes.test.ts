/**
 * One table of exit statuses for every verb: what each verb's --help prints,
 * what README.md's "Exit codes" documents, and what usage errors return,
 * whoever detects them (commander or a verb).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { promisify } from 'node:util';
import { cli, CliWorld } from '../controller/cliHarness.js';
import { ExitCode } from '../../reconciler/cli/errors.js';

const USAGE = 64;

/** The verbs a root --help lists under "Commands:", without `help` itself. */
function verbsOf(help: string): string[] {
  const commands = help.split(/^Commands:$/m)[1]?.split(/^\S/m)[0] ?? '';
  return [...commands.matchAll(/^ {2}([a-z][a-z-]*)/gm)]
    .map((match) => match[1]!)
    .filter((verb) => verb !== 'help');
}

/** Every verb, as the in-process CLI the tests run registers them. */
const VERBS = verbsOf((await cli(['--help'])).stdout);

test('the tests cover every verb of the dm-remap entry point', async (t) => {
  const entry = ['--import', 'tsx/esm', 'reconciler/cli/main.ts', '--help'];
  const { stdout } = await promisify(execFile)(process.execPath, entry);
  t.deepEqual(VERBS, verbsOf(stdout));
  t.true(VERBS.includes('plan'), stdout);
});

/** "code meaning" rows of the table under "## Exit codes" in README.md. */
async function readmeRows(): Promise<string[]> {
  const readme = await fs.readFile('README.md', 'utf8');
  const section = readme.split(/^## /m).find((part) => part.startsWith('Exit codes\n'));
  if (section === undefined) return [];
  return [...section.matchAll(/^\| (\d+) \| (.+) \|$/gm)].map((row) => `${row[1]} ${row[2]}`);
}

/** "code meaning" rows of the exit-status table at the end of a --help text. */
function helpRows(help: string): string[] {
  const table = help.split(/^Exit status.*:$/m)[1] ?? '';
  return [...table.matchAll(/^ +(\d+) {2}(.+)$/gm)].map((row) => `${row[1]} ${row[2]}`);
}

test('README documents one row per exit code the CLI uses, and no other', async (t) => {
  const codes = (await readmeRows()).map((row) => Number(row.split(' ')[0]));
  t.deepEqual(
    codes,
    [...new Set(Object.values(ExitCode))].sort((a, b) => a - b),
  );
});

for (const verb of VERBS) {
  test(`${verb} --help ends with the exit-status table of README.md`, async (t) => {
    const help = await cli([verb, '--help']);
    t.is(help.status, 0);
    const rows = helpRows(help.stdout);
    t.true(rows.length > 0, help.stdout);
    t.deepEqual(rows, await readmeRows());
  });

  test(`${verb}: an unknown option is a usage error (${USAGE}), told apart from every result`, async (t) => {
    const run = await cli([verb, '--bogus']);
    t.is(run.status, USAGE);
    t.regex(run.stderr, /unknown option '--bogus'/);
  });
}

test('commander usage errors exit 64: bad choice, missing value, extra argument, no verb', async (t) => {
  t.is((await cli(['plan', '--output', 'xml'])).status, USAGE);
  t.is((await cli(['apply', '--timeout'])).status, USAGE);
  t.is((await cli(['plan', 'extra'])).status, USAGE);
  t.is((await cli(['frobnicate'])).status, USAGE);
  t.is((await cli([])).status, USAGE);
  t.is((await cli(['help'])).status, 0);
});

test("a verb's own checks of its flags exit 64 too", async (t) => {
  const world = await CliWorld.create(t, []);
  const run = await world.cli('apply', ...world.kernelArgs, '--timeout', 'soon');
  t.deepEqual(
    [run.status, run.stderr],
    [USAGE, 'error: --timeout: "soon" is not a duration (e.g. 500ms, 30s, 5m)\n'],
  );
  t.is((await world.cli('run', ...world.kernelArgs, '--resync-interval', 'often')).status, USAGE);
  t.is((await world.cli('plan', '--kernel', 'magic')).status, USAGE);
});
