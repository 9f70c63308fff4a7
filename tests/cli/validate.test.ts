/** `dm-remap validate`: through runCli with captured output, plus one run of the real entry point. */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { command as validateCommand } from '../../reconciler/cli/commands/validate.js';
import type { CliIo } from '../../reconciler/cli/io.js';
import { runCli } from '../../reconciler/cli/program.js';
import { specYaml, tempDir, writeFile } from '../helpers/specs.js';

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env,
  };
  const status = await runCli(['node', 'dm-remap', ...args], io, [validateCommand]);
  return { status, stdout, stderr };
}

async function brokenAndGood(t: ExecutionContext): Promise<string> {
  const dir = await tempDir(t);
  await writeFile(dir, 'a.yaml', specYaml('a'));
  await writeFile(dir, 'b.yaml', specYaml('b').replace('spareDevice', 'spareDevce'));
  await writeFile(dir, 'c.yaml', specYaml('c'));
  return dir;
}

test('the shipped examples are valid', async (t) => {
  const run = await cli(['validate', 'examples/']);
  t.is(run.status, 0);
  t.is(run.stderr, '');
  t.is(run.stdout, '4 files, 6 devices, 0 errors, 0 warnings\n');
});

test('a broken file is reported like a compiler error and the exit status is 1', async (t) => {
  const dir = await brokenAndGood(t);
  const run = await cli(['validate', dir]);
  t.is(run.status, 1);
  const b = path.join(dir, 'b.yaml');
  t.is(
    run.stderr,
    `${b}:5:1: error: missing required field spec.spareDevice\n` +
      `${b}:7:3: error: unknown field 'spareDevce' in spec; did you mean 'spareDevice'?\n`,
  );
  t.is(run.stdout, '3 files, 2 devices, 2 errors, 0 warnings\n');
});

test('warnings alone keep the exit status 0; --quiet hides them and the summary', async (t) => {
  const dir = await tempDir(t);
  const file = await writeFile(dir, 'a.yaml', specYaml('a', '/dev/sdb'));
  const loud = await cli(['validate', file]);
  t.is(loud.status, 0);
  t.regex(loud.stderr, new RegExp(`^${file}:6:15: warning: spec.mainDevice /dev/sdb is a kernel name`));
  t.is(loud.stdout, '1 file, 1 device, 0 errors, 1 warning\n');

  const quiet = await cli(['validate', '--quiet', file]);
  t.deepEqual([quiet.status, quiet.stdout, quiet.stderr], [0, '', '']);
});

test('--output json prints the documented {devices, diagnostics, files} object', async (t) => {
  const dir = await brokenAndGood(t);
  const run = await cli(['validate', '--output', 'json', dir]);
  t.is(run.status, 1);
  const parsed = JSON.parse(run.stdout) as Record<string, unknown[]>;
  t.deepEqual(Object.keys(parsed), ['devices', 'diagnostics', 'files']);
  t.deepEqual(
    parsed['devices']?.map((d) => (d as { name: string }).name),
    ['a', 'c'],
  );
  t.deepEqual(parsed['diagnostics']?.[1], {
    severity: 'error',
    code: 'unknown-field',
    message: "unknown field 'spareDevce' in spec; did you mean 'spareDevice'?",
    file: path.join(dir, 'b.yaml'),
    line: 7,
    column: 3,
    device: 'b',
  });
  t.deepEqual(parsed['files']?.[1], { file: path.join(dir, 'b.yaml'), status: 'invalid', devices: ['b'] });
});

test('a missing path exits with 74 (EX_IOERR)', async (t) => {
  const dir = await tempDir(t);
  const run = await cli(['validate', path.join(dir, 'nope')]);
  t.is(run.status, 74);
  t.is(run.stderr, `${path.join(dir, 'nope')}: error: no such file or directory\n`);
});

test('without PATH the config dir is validated and insecure permissions are errors', async (t) => {
  const dir = await tempDir(t);
  await writeFile(dir, 'a.yaml', specYaml('a'), 0o666);

  const fromEnv = await cli(['validate'], { DM_REMAP_CONFIG_DIR: dir });
  t.is(fromEnv.status, 77);
  t.regex(fromEnv.stderr, /a\.yaml: error: config file is writable by group and others \(mode 0666\)/);

  const fromFlag = await cli(['validate', '--config-dir', dir]);
  t.is(fromFlag.status, 77);

  const allowed = await cli(['validate', '--config-dir', dir, '--allow-insecure-permissions']);
  t.is(allowed.status, 0);
  t.regex(allowed.stderr, /a\.yaml: warning: config file is writable/);
});

test('explicit PATHs only warn about permissions unless --strict-permissions', async (t) => {
  const dir = await tempDir(t);
  await writeFile(dir, 'a.yaml', specYaml('a'), 0o666);

  const relaxed = await cli(['validate', dir]);
  t.is(relaxed.status, 0);
  t.regex(relaxed.stderr, /a\.yaml: warning: config file is writable/);

  const strict = await cli(['validate', '--strict-permissions', dir]);
  t.is(strict.status, 77);
  t.regex(strict.stderr, /a\.yaml: error: config file is writable/);
});

test('usage errors exit with 64 (EX_USAGE)', async (t) => {
  const unknown = await cli(['validate', '--bogus']);
  t.is(unknown.status, 64);
  t.regex(unknown.stderr, /unknown option '--bogus'/);

  const badFormat = await cli(['validate', '--output', 'xml', 'examples/']);
  t.is(badFormat.status, 64);

  const contradiction = await cli(['validate', '--strict-permissions', '--allow-insecure-permissions', 'x']);
  t.deepEqual(
    [contradiction.status, contradiction.stderr],
    [64, 'error: --strict-permissions and --allow-insecure-permissions contradict each other\n'],
  );

  const noVerb = await cli([]);
  t.is(noVerb.status, 64);
});

test('--help explains the command with examples; --version prints the version', async (t) => {
  const help = await cli(['validate', '--help']);
  t.is(help.status, 0);
  t.regex(help.stdout, /Usage: dm-remap validate \[options\] \[paths\.\.\.\]/);
  t.regex(help.stdout, /Examples:\n {2}dm-remap validate {2,}# the live config dir/);
  t.regex(help.stdout, /^ +0 {2}success: valid/m);

  const version = await cli(['--version']);
  const { version: packageVersion } = JSON.parse(await fs.readFile('package.json', 'utf8')) as {
    version: string;
  };
  t.deepEqual([version.status, version.stdout], [0, `${packageVersion}\n`]);
});

test('the dm-remap entry point runs validate and exits with its status', async (t) => {
  const dir = await brokenAndGood(t);
  const entry = ['--import', 'tsx/esm', 'reconciler/cli/main.ts'];
  const good = await promisify(execFile)(process.execPath, [...entry, 'validate', 'examples/']);
  t.is(good.stdout, '4 files, 6 devices, 0 errors, 0 warnings\n');

  const bad = await promisify(execFile)(process.execPath, [...entry, 'validate', dir]).then(
    () => undefined,
    (error: { code: number; stderr: string }) => error,
  );
  t.is(bad?.code, 1);
  t.regex(bad?.stderr ?? '', /b\.yaml:7:3: error: unknown field 'spareDevce'/);
});

test('ignored files are named with the reason, beside the problems, unless --quiet', async (t) => {
  const dir = await tempDir(t);
  await writeFile(dir, 'a.yaml', specYaml('a'));
  await writeFile(dir, 'b.yaml', specYaml('b').replace('spareDevice', 'spareDevce'));
  await writeFile(dir, 'README', 'notes\n');
  await writeFile(dir, 'a.yaml~', 'old\n');
  await fs.mkdir(path.join(dir, 'old.yaml'));

  const run = await cli(['validate', dir]);
  t.is(run.status, 1);
  t.is(
    run.stderr,
    `${dir}/README: note: ignored (not a .yaml or .yml file)\n` +
      `${dir}/a.yaml~: note: ignored (editor or package manager leftover)\n` +
      `${dir}/b.yaml:5:1: error: missing required field spec.spareDevice\n` +
      `${dir}/b.yaml:7:3: error: unknown field 'spareDevce' in spec; did you mean 'spareDevice'?\n` +
      `${dir}/old.yaml: note: ignored (not a regular file)\n`,
  );
  t.is(run.stdout, '2 files, 1 device, 2 errors, 0 warnings (3 files ignored)\n');

  const quiet = await cli(['validate', '--quiet', dir]);
  t.notRegex(quiet.stderr, /note:/);

  const json = await cli(['validate', '--output', 'json', dir]);
  const { files } = JSON.parse(json.stdout) as { files: unknown[] };
  t.deepEqual(files[0], {
    file: path.join(dir, 'README'),
    status: 'ignored',
    devices: [],
    reason: 'not a .yaml or .yml file',
  });
});

test('a directory holding no spec file is a warning, and an error with --require-specs', async (t) => {
  const dir = await tempDir(t);
  await writeFile(dir, 'example.yaml.disabled', specYaml('a'));
  const warning = `no spec files in ${dir} (only *.yaml and *.yml are read; 1 file ignored)`;

  const run = await cli(['validate', dir]);
  t.is(run.status, 0);
  t.is(
    run.stderr,
    `${dir}: warning: ${warning}\n${dir}/example.yaml.disabled: note: ignored (not a .yaml or .yml file)\n`,
  );
  t.is(run.stdout, '0 files, 0 devices, 0 errors, 1 warning (1 file ignored)\n');

  const required = await cli(['validate', '--require-specs', '--quiet', dir]);
  t.deepEqual([required.status, required.stderr], [1, `${dir}: error: ${warning}\n`]);

  const empty = await tempDir(t);
  const fromConfigDir = await cli(['validate', '--require-specs', '--config-dir', empty]);
  t.is(fromConfigDir.status, 1);
  t.is(fromConfigDir.stderr, `${empty}: error: no spec files in ${empty} (the directory is empty)\n`);

  const file = await writeFile(empty, 'a.yaml', specYaml('a'));
  const explicitFile = await cli(['validate', '--require-specs', file]);
  t.deepEqual([explicitFile.status, explicitFile.stderr], [0, '']);
});

test('a config dir below a directory others can write is refused with exit 77, naming that directory', async (t) => {
  const parent = await tempDir(t);
  const config = path.join(parent, 'dm-remap.d');
  await fs.mkdir(config, { mode: 0o755 });
  await writeFile(config, 'a.yaml', specYaml('a'));
  await fs.chmod(parent, 0o777);

  const run = await cli(['validate', '--config-dir', config]);
  t.is(run.status, 77);
  t.is(
    run.stderr,
    `${parent}: error: directory on the path to ${config} is writable by group and others (mode 0777); ` +
      'whoever can write it can replace what lies below it, so only root may be able to ' +
      `(fix: chown root:root ${parent} && chmod go-w ${parent})\n` +
      `${config}/a.yaml: error: not used because a directory or symbolic link on its path is refused (see its error)\n`,
  );
  t.is(run.stdout, '1 file, 0 devices, 2 errors, 0 warnings\n');
});
