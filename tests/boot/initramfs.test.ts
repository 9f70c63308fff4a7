/**
 * The initramfs-tools hook and local-top script (etc/initramfs-tools/), run
 * as the shells that run them (dash as /bin/sh at update-initramfs time;
 * dash and busybox's sh at boot) against stand-ins: hook-functions, the
 * dm-remap CLI, dmsetup and modprobe that record what they were asked, and
 * disks made with mknod. The real module and dmsetup: the guest test
 * tests/guest/reconciler-boot-tables.sh.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';

const HOOK = path.resolve('etc/initramfs-tools/hooks/dm-remap');
const LOCAL_TOP = path.resolve('etc/initramfs-tools/scripts/local-top/dm-remap');

const SHELLS = ['dash', 'busybox'].filter((shell) => spawnSync('which', [shell]).status === 0);

/** Disks are block device nodes: made with mknod, which needs root (CAP_MKNOD). */
const canMknod = await (async () => {
  const probe = path.join(os.tmpdir(), `dm-remap-mknod-${process.pid}`);
  const made = spawnSync('mknod', [probe, 'b', '7', '250']).status === 0;
  await fs.rm(probe, { force: true });
  return made;
})();
const withDisks = canMknod ? test : test.skip;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dm-remap-initramfs-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** An executable sh script at `file`. */
async function script(file: string, body: string): Promise<void> {
  await fs.writeFile(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

async function readOr(file: string, fallback: string): Promise<string> {
  return fs.readFile(file, 'utf8').catch(() => fallback);
}

// ---- the hook ----

/**
 * A DESTDIR, hook-functions that record each call in `calls` (manual_add_modules
 * puts a dm-remap.ko in the image unless `moduleBuilt` is false), and a
 * dm-remap CLI that prints `output` and exits with `status`.
 */
async function hookWorld(
  t: ExecutionContext,
  cli: { output: string; status: number; moduleBuilt?: boolean },
) {
  const dir = await tempDir(t);
  const destdir = path.join(dir, 'image');
  await fs.mkdir(destdir);
  const calls = path.join(dir, 'calls');
  const functions = path.join(dir, 'hook-functions');
  const moduleDir = `${destdir}/lib/modules/6.1.0-test/updates/dkms`;
  await fs.writeFile(
    functions,
    [
      `manual_add_modules() { echo "manual_add_modules $*" >>'${calls}';` +
        (cli.moduleBuilt === false ? ' }' : ` mkdir -p '${moduleDir}' && : >'${moduleDir}/dm-remap.ko'; }`),
      `copy_exec() { echo "copy_exec $*" >>'${calls}'; }`,
      '',
    ].join('\n'),
  );
  const fakeCli = path.join(dir, 'dm-remap');
  await fs.writeFile(path.join(dir, 'output'), cli.output);
  await script(
    fakeCli,
    `echo "dm-remap $*" >>'${calls}'\ncat '${dir}/output'\n[ ${cli.status} = 0 ] || echo "boot-tables: refused: x" >&2\nexit ${cli.status}`,
  );
  const runHook = () =>
    run('sh', [HOOK], {
      PATH: process.env.PATH,
      DESTDIR: destdir,
      version: '6.1.0-test',
      DM_REMAP_HOOK_FUNCTIONS: functions,
      DM_REMAP_CLI: fakeCli,
    });
  return { destdir, calls: () => readOr(calls, ''), runHook };
}

const LINE =
  'root DMREMAP-root 0 65536 remap /dev/disk/by-id/root-main /dev/disk/by-id/root-spare 4 block_size 8 read_retries 3';

test('the hook writes the listed devices into the image and adds the module and dmsetup', async (t) => {
  const { destdir, calls, runHook } = await hookWorld(t, { output: `${LINE}\n`, status: 0 });
  const hook = await runHook();
  t.is(hook.status, 0, hook.stderr);
  const tables = await fs.readFile(path.join(destdir, 'etc/dm-remap/boot-tables'), 'utf8');
  t.is(
    tables
      .split('\n')
      .filter((line) => !line.startsWith('#'))
      .join('\n'),
    `${LINE}\n`,
  );
  t.regex(tables, /^# dm-remap boot tables/);
  const called = (await calls()).split('\n');
  t.deepEqual(called.slice(0, 2), ['dm-remap boot-tables --output text', 'manual_add_modules dm-remap']);
  t.regex(called[2]!, /^copy_exec \S*dmsetup \/sbin$/);
  t.regex(hook.stderr, /the initramfs creates 1 device\(s\): root/);
});

test('the hook adds nothing when no dm-remap device is under the root', async (t) => {
  const { destdir, calls, runHook } = await hookWorld(t, { output: '', status: 0 });
  const hook = await runHook();
  t.is(hook.status, 0, hook.stderr);
  t.is(await calls(), 'dm-remap boot-tables --output text\n');
  t.deepEqual(await fs.readdir(destdir), []);
});

test('the hook fails, writing nothing, when boot-tables fails', async (t) => {
  const { destdir, runHook } = await hookWorld(t, { output: '', status: 1 });
  const hook = await runHook();
  t.is(hook.status, 1);
  t.regex(hook.stderr, /boot-tables: refused: x\nE: dm-remap: dm-remap boot-tables failed/);
  t.deepEqual(await fs.readdir(destdir), []);
});

test('the hook warns and adds nothing when boot-tables cannot read the mount table (a chroot without /proc)', async (t) => {
  const { destdir, calls, runHook } = await hookWorld(t, { output: '', status: 69 });
  const hook = await runHook();
  t.is(hook.status, 0, hook.stderr);
  t.regex(hook.stderr, /W: dm-remap: cannot tell what the root filesystem sits on/);
  t.is(await calls(), 'dm-remap boot-tables --output text\n');
  t.deepEqual(await fs.readdir(destdir), []);
});

test('the hook fails when the module is not built for the kernel of the image', async (t) => {
  const { runHook } = await hookWorld(t, { output: `${LINE}\n`, status: 0, moduleBuilt: false });
  const hook = await runHook();
  t.is(hook.status, 1);
  t.regex(hook.stderr, /E: dm-remap: no dm-remap module for kernel 6\.1\.0-test/);
});

// ---- the local-top script ----

/**
 * A tables file, a dmsetup that records its calls and knows the devices in
 * `existing`, a modprobe that records its calls, and disks made on request.
 */
async function bootWorld(t: ExecutionContext, existing: string[] = []) {
  const dir = await tempDir(t);
  const bin = path.join(dir, 'bin');
  await fs.mkdir(bin);
  const calls = path.join(dir, 'calls');
  await script(
    path.join(bin, 'dmsetup'),
    [
      `printf '%s|' dmsetup "$@" >>'${calls}'; echo >>'${calls}'`,
      `case "$1" in info) for known in ${existing.join(' ')}; do [ "$3" = "$known" ] && exit 0; done; exit 1 ;; esac`,
      'exit 0',
    ].join('\n'),
  );
  await script(path.join(bin, 'modprobe'), `echo "modprobe $*" >>'${calls}'`);
  const disk = (name: string) => path.join(dir, name);
  const makeDisk = async (name: string) => {
    const made = await run('mknod', [disk(name), 'b', '7', String(200 + name.length)], process.env);
    if (made.status !== 0) throw new Error(`mknod ${name}: ${made.stderr}`);
  };
  const tables = path.join(dir, 'boot-tables');
  const line = (name: string, main: string, spare: string) =>
    `${name} DMREMAP-${name} 0 65536 remap ${disk(main)} ${disk(spare)} 6 block_size 8 read_retries 3 main_id virtio-${name}`;
  const boot = (shell: string, wait = 1) =>
    run(shell, shell === 'busybox' ? ['sh', LOCAL_TOP] : [LOCAL_TOP], {
      PATH: `${bin}:${process.env.PATH ?? ''}`,
      DM_REMAP_BOOT_TABLES: tables,
      DM_REMAP_BOOT_WAIT: String(wait),
    });
  return { dir, tables, line, disk, makeDisk, boot, calls: () => readOr(calls, '') };
}

for (const shell of SHELLS) {
  withDisks(`local-top (${shell}) creates each device with its table once its disks are there`, async (t) => {
    const { tables, line, makeDisk, boot, calls, disk } = await bootWorld(t);
    for (const name of ['a-main', 'a-spare', 'b-main', 'b-spare']) await makeDisk(name);
    await fs.writeFile(
      tables,
      ['# comment', line('a', 'a-main', 'a-spare'), '', line('b', 'b-main', 'b-spare'), ''].join('\n'),
    );
    const booted = await boot(shell);
    t.is(booted.status, 0, booted.stderr);
    const table = (name: string) =>
      `0 65536 remap ${disk(`${name}-main`)} ${disk(`${name}-spare`)} 6 block_size 8 read_retries 3 main_id virtio-${name}`;
    const called = await calls();
    // busybox's sh runs its own modprobe applet, not the one on PATH.
    if (shell !== 'busybox') t.true(called.startsWith('modprobe -q dm-remap\n'), called);
    t.is(
      called.replace(/^modprobe .*\n/, ''),
      [
        'dmsetup|info|--|a|',
        `dmsetup|create|a|--uuid|DMREMAP-a|--table|${table('a')}|`,
        'dmsetup|info|--|b|',
        `dmsetup|create|b|--uuid|DMREMAP-b|--table|${table('b')}|`,
        '',
      ].join('\n'),
    );
    t.regex(booted.stdout, /dm-remap: created a\n(?:.*\n)*dm-remap: created b\n/);
  });

  withDisks(`local-top (${shell}) skips a device whose spare never comes, and says so`, async (t) => {
    const { tables, line, makeDisk, boot, calls, disk } = await bootWorld(t);
    for (const name of ['a-main', 'b-main', 'b-spare']) await makeDisk(name);
    await fs.writeFile(
      tables,
      [line('a', 'a-main', 'a-spare'), line('b', 'b-main', 'b-spare'), ''].join('\n'),
    );
    const started = Date.now();
    const booted = await boot(shell, 2);
    t.is(booted.status, 0);
    t.true(Date.now() - started < 10_000, 'the wait is bounded');
    t.regex(
      booted.stdout,
      new RegExp(`dm-remap: waiting for the disks of a: ${disk('a-main')} ${disk('a-spare')}`),
    );
    t.regex(
      booted.stderr,
      new RegExp(`Failure: dm-remap: a: not created: ${disk('a-spare')} did not appear within 2s`),
    );
    const called = await calls();
    t.notRegex(called, /create\|a\|/);
    t.regex(called, /create\|b\|/);
  });

  withDisks(`local-top (${shell}) waits for a disk that comes late`, async (t) => {
    const { tables, line, makeDisk, boot, calls } = await bootWorld(t);
    await makeDisk('a-main');
    await fs.writeFile(tables, line('a', 'a-main', 'a-spare') + '\n');
    const late = new Promise((resolve) => setTimeout(resolve, 1500)).then(() => makeDisk('a-spare'));
    const booted = await boot(shell, 10);
    await late;
    t.is(booted.status, 0, booted.stderr);
    t.regex(await calls(), /create\|a\|--uuid\|DMREMAP-a\|/);
  });

  withDisks(
    `local-top (${shell}) leaves a device that exists, and lines that are not dm-remap's`,
    async (t) => {
      const { tables, line, makeDisk, boot, calls } = await bootWorld(t, ['a']);
      for (const name of ['a-main', 'a-spare']) await makeDisk(name);
      await fs.writeFile(
        tables,
        [
          line('a', 'a-main', 'a-spare'),
          line('c', 'a-main', 'a-spare').replace('DMREMAP-c', 'LVM-c'),
          line('d', 'a-main', 'a-spare').replace(/^d /, '$(reboot) '),
          line('e', 'a-main', 'a-spare').replace(' remap ', ' linear '),
          '',
        ].join('\n'),
      );
      const booted = await boot(shell);
      t.is(booted.status, 0);
      t.regex(booted.stdout, /dm-remap: a exists already/);
      t.regex(booted.stderr, /c: skipped: its UUID 'LVM-c' is not dm-remap's/);
      t.regex(booted.stderr, /skipped a line of .*: bad device name '\$\(reboot\)'/);
      t.regex(booted.stderr, /e: skipped: .* is not a remap table/);
      t.notRegex(await calls(), /create/);
    },
  );
}

test('local-top does nothing without a tables file', async (t) => {
  const { boot, calls } = await bootWorld(t);
  const booted = await boot('dash');
  t.is(booted.status, 0);
  t.is(await calls(), '');
  t.is(booted.stdout + booted.stderr, '');
});
