/** The process runner with real child processes (node itself, so the tests run wherever node does). */
import test from 'ava';

import { kernelErrorFromProcess } from '../../reconciler/kernel/dmsetup-errors.js';
import { ProcessFailure, runProcess } from '../../reconciler/kernel/process.js';

const node = process.execPath;

test('stdout is collected and stdin receives the input', async (t) => {
  const result = await runProcess(
    node,
    ['-e', 'process.stdin.pipe(process.stdout); process.stderr.write("note")'],
    { timeoutMs: 10_000, input: 'table line\n' },
  );
  t.deepEqual(result, { stdout: 'table line\n', stderr: 'note' });
});

test('arguments are passed as they are, never through a shell', async (t) => {
  const tricky = '$(touch /tmp/never) ; `id` | & > x';
  const { stdout } = await runProcess(node, ['-e', 'console.log(process.argv[1])', tricky], {
    timeoutMs: 10_000,
  });
  t.is(stdout, `${tricky}\n`);
});

test('a non-zero exit fails with the exit code and stderr, which maps to a stable code', async (t) => {
  const error = await t.throwsAsync(
    runProcess(
      node,
      ['-e', 'console.error("remove ioctl on x failed: Device or resource busy"); process.exit(1)'],
      {
        timeoutMs: 10_000,
      },
    ),
    { instanceOf: ProcessFailure },
  );
  t.like(error, { exitCode: 1, reason: 'exit' });
  t.like(kernelErrorFromProcess(error, 'remove', 'x'), { code: 'EBUSY', device: 'x', operation: 'remove' });
});

test('a process that does not finish in time is killed and reported as a timeout', async (t) => {
  const started = Date.now();
  const error = await t.throwsAsync(
    runProcess(node, ['-e', 'setInterval(() => {}, 1000)'], { timeoutMs: 300 }),
    {
      instanceOf: ProcessFailure,
    },
  );
  t.is(error.reason, 'timeout');
  t.true(Date.now() - started < 5000);
  t.is(kernelErrorFromProcess(error, 'suspend', 'd').code, 'ETIMEDOUT');
});

test('aborting the signal settles at once with an abort', async (t) => {
  const controller = new AbortController();
  const pending = runProcess(node, ['-e', 'setInterval(() => {}, 1000)'], {
    timeoutMs: 60_000,
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(), 100);
  const error = await t.throwsAsync(pending, { instanceOf: ProcessFailure });
  t.is(error.reason, 'aborted');
  t.is(kernelErrorFromProcess(error, 'observe').code, 'ECANCELED');
});

test('a program that does not exist is a spawn failure (ENOENT)', async (t) => {
  const error = await t.throwsAsync(runProcess('/nonexistent/dmsetup', ['targets'], { timeoutMs: 10_000 }), {
    instanceOf: ProcessFailure,
  });
  t.is(error.reason, 'spawn');
  t.is(kernelErrorFromProcess(error, 'observe').code, 'ENOENT');
});
