/** The single-instance lock through the CLI: apply waits for a holder, then gives up with 75; plan never waits. */
import test from 'ava';
import { acquireInstanceLock } from '../../reconciler/host/instanceLock.js';
import { CliWorld } from '../controller/cliHarness.js';

test('apply beside a holder of the lock waits, names it, and exits 75 at its --timeout; plan does not wait', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  // A simulated kernel's state dir is beside its file; the lock is in it (the host's: /run/dm-remap/lock).
  const held = await acquireInstanceLock(`${world.simFile}.state/lock`, { holder: 'run' });
  t.teardown(() => held.release());

  const apply = await world.cli('apply', ...world.kernelArgs, '--timeout', '500ms');
  t.is(apply.status, 75, apply.stderr);
  t.regex(apply.stderr, /waiting for .*kernel\.json\.state\/lock, held by pid \d+ run/);
  t.regex(
    apply.stderr,
    /^dm-remap: gave up waiting: .*kernel\.json\.state\/lock is still held by pid \d+ run/m,
  );
  t.is(await world.device('a'), undefined);

  const plan = await world.cli('plan', ...world.kernelArgs);
  t.is(plan.status, 2, plan.stderr);

  await held.release();
  t.is((await world.cli('apply', ...world.kernelArgs)).status, 0);
});
