import test from 'ava';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemdNotifier } from '../../reconciler/host/systemdNotify.js';

test('outside systemd (no NOTIFY_SOCKET) there is no notifier', (t) => {
  t.is(systemdNotifier({ PATH: '/usr/bin' }), undefined);
});

test('systemd-notify is run with --pid naming the daemon and one argument per field', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dm-remap-notify-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const fake = join(dir, 'systemd-notify');
  await writeFile(fake, `#!/bin/sh\nfor arg in "$@"; do printf '%s\\n' "$arg"; done >${join(dir, 'args')}\n`);
  await chmod(fake, 0o755);
  const notifier = systemdNotifier({ NOTIFY_SOCKET: '/run/systemd/notify', PATH: dir }, 4242);
  t.truthy(notifier);
  t.true(await notifier?.notify({ READY: '1', STATUS: 'first pass done;\nwatching /etc/dm-remap.d' }));
  t.deepEqual((await readFile(join(dir, 'args'), 'utf8')).trim().split('\n'), [
    '--pid=4242',
    'READY=1',
    'STATUS=first pass done; watching /etc/dm-remap.d',
  ]);
});

test('a missing systemd-notify is reported as a failed notification, not thrown', async (t) => {
  const notifier = systemdNotifier({ NOTIFY_SOCKET: '/run/systemd/notify', PATH: '/nonexistent' });
  t.false(await notifier?.notify({ READY: '1' }));
});
