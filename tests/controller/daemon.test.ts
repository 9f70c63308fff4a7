/**
 * The daemon around the controller: a failing config watcher (ENOSPC from
 * the inotify watch limit, EMFILE) is logged once, re-armed with backoff, and
 * never takes the daemon down. The watcher is a fake handed in through the
 * factory, so the test decides when it is ready, changes or fails.
 */
import test from 'ava';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Daemon } from '../../reconciler/controller/daemon.js';
import type { FileWatcher } from '../../reconciler/controller/watch.js';
import { capturingLogger, MemorySpecs, newController, newKernel } from './simWorld.js';
import type { SimulatedKernel } from '../../reconciler/kernel/simulated.js';

class FakeWatcher extends EventEmitter implements FileWatcher {
  closed = false;
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/** Polls `condition` until it holds, or fails after `timeoutMs`. */
async function eventually(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function exists(kernel: SimulatedKernel, name: string): Promise<boolean> {
  return (await kernel.observe()).devices.some((device) => device.name === name);
}

function inotifyLimit(): Error {
  return Object.assign(
    new Error("ENOSPC: System limit for number of file watchers reached, watch '/etc/dm-remap.d'"),
    { code: 'ENOSPC', errno: -28, syscall: 'watch' },
  );
}

test('a failing config watcher is logged once, re-armed, and the daemon still follows changes', async (t) => {
  const kernel = newKernel(['a', 'b']);
  const specs = new MemorySpecs();
  specs.set('a');
  const { logger, lines } = capturingLogger();
  const controller = newController(kernel, specs, { logger });
  const watchers: FakeWatcher[] = [];
  const daemon = new Daemon(controller, {
    configDir: '/etc/dm-remap.d',
    // No resync during the test: only the watcher can wake the daemon.
    resyncIntervalMs: 3_600_000,
    debounceMs: 10,
    logger,
    rearm: { baseMs: 20, maxMs: 200 },
    createWatcher: () => {
      const watcher = new FakeWatcher();
      watchers.push(watcher);
      setImmediate(() => watcher.emit('ready'));
      return watcher;
    },
  });
  t.teardown(() => daemon.stop(1_000).then(() => undefined));
  await daemon.start();
  await eventually(() => exists(kernel, 'a'), 'a created at start');

  watchers[0]!.emit('error', inotifyLimit());
  await eventually(() => watchers.length === 2, 'the watcher re-armed');
  t.true(watchers[0]!.closed, 'the failed watcher is closed');

  // The same failure again: re-armed again (backing off), but not logged again.
  watchers[1]!.emit('error', inotifyLimit());
  await eventually(() => watchers.length === 3, 'the watcher re-armed a second time');
  t.true(watchers[1]!.closed);
  const warnings = lines.filter((line) => line.level === 'warn' && line.message.includes('ENOSPC'));
  t.is(warnings.length, 1, JSON.stringify(lines));
  t.regex(warnings[0]?.message ?? '', /config watch failed: .*System limit for number of file watchers/);

  // Re-arming reconciles once (a change may have been missed while blind): let the last
  // watcher get ready and its debounced pass start (debounce 10 ms), then settle.
  await sleep(150);
  await eventually(
    () => lines.some((line) => line.message === 'reconciling all devices (config change)'),
    'a pass after re-arming',
  );
  await controller.waitUntil((report) => report.settled, 2_000);

  specs.set('b');
  await sleep(200);
  t.false(await exists(kernel, 'b'), 'nothing but the watcher could have created b');
  watchers[2]!.emit('all', 'add', '/etc/dm-remap.d/b.yaml');
  await eventually(() => exists(kernel, 'b'), 'b created after a change the new watcher saw');
});

test('stopping the daemon while a re-arm is pending creates no new watcher', async (t) => {
  const kernel = newKernel([]);
  const { logger } = capturingLogger();
  const watchers: FakeWatcher[] = [];
  const daemon = new Daemon(newController(kernel, new MemorySpecs(), { logger }), {
    configDir: '/etc/dm-remap.d',
    resyncIntervalMs: 3_600_000,
    debounceMs: 10,
    logger,
    rearm: { baseMs: 100, maxMs: 100 },
    createWatcher: () => {
      const watcher = new FakeWatcher();
      watchers.push(watcher);
      setImmediate(() => watcher.emit('ready'));
      return watcher;
    },
  });
  await daemon.start();
  watchers[0]!.emit('error', inotifyLimit());
  t.true(await daemon.stop(1_000));
  await sleep(300);
  t.is(watchers.length, 1);
});

test('a resync pass that finds nothing to do logs nothing at info', async (t) => {
  const kernel = newKernel(['a']);
  const specs = new MemorySpecs();
  specs.set('a');
  const { logger, lines } = capturingLogger();
  const controller = newController(kernel, specs, { logger });
  const daemon = new Daemon(controller, {
    configDir: '/etc/dm-remap.d',
    resyncIntervalMs: 20,
    debounceMs: 10,
    logger,
    createWatcher: () => {
      const watcher = new FakeWatcher();
      setImmediate(() => watcher.emit('ready'));
      return watcher;
    },
  });
  t.teardown(() => daemon.stop(1_000).then(() => undefined));
  await daemon.start();
  await eventually(() => exists(kernel, 'a'), 'a created at start');
  await controller.waitUntil((report) => report.settled, 2_000);
  const mark = lines.length;
  const observed = kernel.calls.observe;
  await eventually(() => kernel.calls.observe >= observed + 6, 'three more resync passes');
  const quiet = lines.slice(mark).filter((line) => line.level !== 'debug');
  t.deepEqual(quiet, []);
});
