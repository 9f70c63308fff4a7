/**
 * The daemon's logging under systemd: with JOURNAL_STREAM set each line
 * carries its syslog priority (`<4>` for a warning) so `journalctl -p
 * warning` works, and --log-level drops what is below it.
 */
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliWorld, spawnCli } from '../controller/cliHarness.js';

test('under journald, each line has its priority; --log-level warn keeps only warnings and errors', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  t.is((await world.cli('apply', ...world.kernelArgs)).status, 0);
  const state = await world.kernel();
  const a = state.devices.find((device) => device.name === 'a');
  if (!a) return t.fail('no device a');
  a.remapStatus = { health: 'degraded', pendingBlocks: 1 };
  await world.writeKernel(state);
  const child = spawnCli(
    t,
    ['run', ...world.kernelArgs, '--resync-interval', '200ms', '--log-level', 'warn'],
    { ...process.env, JOURNAL_STREAM: '8:12345' },
  );
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  for (let waited = 0; !stdout.includes('PendingBlocks') && waited < 60_000; waited += 100) await sleep(100);
  await sleep(1_000);
  child.kill('SIGTERM');
  t.is(await exited, 0);
  const lines = stdout.trim().split('\n');
  t.true(lines.length >= 1, stdout);
  t.true(
    lines.every((line) => /^<[34]>\{/.test(line)),
    stdout,
  );
  t.regex(stdout, /^<4>\{.*"reason":"PendingBlocks"/m);
  t.notRegex(stdout, /reconciling all devices/);
});

test('a bad --log-level is a usage error (64)', async (t) => {
  const world = await CliWorld.create(t, []);
  t.is((await world.cli('run', ...world.kernelArgs, '--log-level', 'chatty')).status, 64);
});

test('the daemon says at info when a device is active again after a reload', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  const child = spawnCli(t, ['run', ...world.kernelArgs, '--resync-interval', '1h']);
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const waitFor = async (pattern: RegExp, from = 0) => {
    for (let waited = 0; !pattern.test(stdout.slice(from)) && waited < 60_000; waited += 100)
      await sleep(100);
  };
  await waitFor(/"state":"active"/);
  await world.writeSpec('a', ['readRetries: 5']);
  const before = stdout.length;
  await waitFor(/"state":"updating\.resuming"[^\n]*\n(.*\n)*.*"level":"info"[^\n]*"state":"active"/, before);
  child.kill('SIGTERM');
  t.is(await exited, 0);
  const after = stdout
    .slice(before)
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { level: string; state?: string })
    .filter((line) => line.level === 'info' && line.state !== undefined)
    .map((line) => line.state);
  t.deepEqual(after.slice(-2), ['updating.resuming', 'active'], stdout);
});
