/** loadSpecs against real temporary directories: file selection, permissions, limits, device identities. */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { defaultConfigDir, loadSpecs } from '../../reconciler/spec/index.js';
import { LEFTOVER_NAMES, specYaml, tempDir, writeFile } from '../helpers/specs.js';

const run = promisify(execFile);

const brief = (
  diagnostics: { file: string; line?: number; column?: number; severity: string; code: string }[],
) =>
  diagnostics.map(
    (d) => `${path.basename(d.file)}:${d.line ?? '-'}:${d.column ?? '-'} ${d.severity} ${d.code}`,
  );

test('a broken file loses only its own devices; the good files still load', async (t) => {
  const dir = await tempDir(t);
  await writeFile(dir, '10-good.yaml', specYaml('alpha'));
  await writeFile(dir, '20-broken.yaml', specYaml('beta').replace('spareDevice', 'spareDevce'));
  await writeFile(dir, '30-good.yml', `${specYaml('gamma')}---\n${specYaml('delta')}`);

  const result = await loadSpecs([dir]);

  t.deepEqual(
    result.devices.map((d) => d.name),
    ['alpha', 'gamma', 'delta'],
  );
  t.deepEqual(brief(result.diagnostics), [
    '20-broken.yaml:5:1 error missing-field',
    '20-broken.yaml:7:3 error unknown-field',
  ]);
  t.deepEqual(
    result.files.map((f) => [path.basename(f.file), f.status, f.devices]),
    [
      ['10-good.yaml', 'valid', ['alpha']],
      ['20-broken.yaml', 'invalid', ['beta']],
      ['30-good.yml', 'valid', ['gamma', 'delta']],
    ],
  );
  t.deepEqual(result.devices[2]?.source, { file: path.join(dir, '30-good.yml'), line: 9, column: 1 });
});

test('hidden files, leftovers and other names in a directory are reported as ignored, not read', async (t) => {
  const dir = await tempDir(t);
  await writeFile(dir, 'data.yaml', specYaml('data'));
  const junk = '\0not yaml at all';
  for (const name of LEFTOVER_NAMES) await writeFile(dir, name, junk);
  await fs.mkdir(path.join(dir, 'sub.yaml'));

  const result = await loadSpecs([dir]);

  t.deepEqual(result.diagnostics, []);
  t.deepEqual(
    result.devices.map((d) => d.name),
    ['data'],
  );
  const ignored = result.files.filter((f) => f.status === 'ignored').map((f) => path.basename(f.file));
  t.deepEqual(ignored.sort(), [...LEFTOVER_NAMES, 'sub.yaml'].sort());
  const reasonOf = (name: string) => result.files.find((f) => f.file === path.join(dir, name))?.reason;
  t.is(reasonOf('.hidden.yaml'), 'hidden file');
  t.is(reasonOf('data.yaml.dpkg-dist'), 'editor or package manager leftover');
  t.is(reasonOf('README'), 'not a .yaml or .yml file');
  t.is(reasonOf('sub.yaml'), 'not a regular file');
  t.is(reasonOf('data.yaml'), undefined);
});

test('a directory in which no spec file is read is reported only when asked, at the asked severity', async (t) => {
  const base = await tempDir(t);
  const empty = path.join(base, 'a-empty');
  const leftovers = path.join(base, 'b-leftovers');
  await fs.mkdir(empty);
  await fs.mkdir(leftovers);
  await writeFile(leftovers, 'data.yaml~', specYaml('data'));
  await fs.mkdir(path.join(leftovers, 'sub.yaml'));

  t.deepEqual((await loadSpecs([empty, leftovers])).diagnostics, []);
  const warned = await loadSpecs([empty, leftovers], { noSpecFiles: 'warning' });
  t.deepEqual(
    warned.diagnostics.map((d) => [d.file, d.severity, d.code, d.message]),
    [
      [empty, 'warning', 'no-spec-files', `no spec files in ${empty} (the directory is empty)`],
      [
        leftovers,
        'warning',
        'no-spec-files',
        `no spec files in ${leftovers} (only *.yaml and *.yml are read; 2 files ignored)`,
      ],
    ],
  );
  const refused = await loadSpecs([leftovers], { noSpecFiles: 'error' });
  t.deepEqual(
    refused.diagnostics.map((d) => [d.severity, d.code]),
    [['error', 'no-spec-files']],
  );
  await writeFile(leftovers, 'data.yaml', 'not: [valid');
  t.deepEqual(
    (await loadSpecs([leftovers], { noSpecFiles: 'error' })).diagnostics.map((d) => d.code),
    ['yaml-syntax'],
    'an invalid spec file is still a spec file',
  );
});

test('a spec file writable by others is refused, naming the file and its mode', async (t) => {
  const dir = await tempDir(t);
  const file = await writeFile(dir, 'data.yaml', specYaml('data'), 0o666);
  await writeFile(dir, 'other.yaml', specYaml('other'));

  const result = await loadSpecs([dir]);

  t.deepEqual(
    result.devices.map((d) => d.name),
    ['other'],
  );
  t.deepEqual(
    result.diagnostics.map((d) => [d.file, d.severity, d.code, d.message]),
    [
      [
        file,
        'error',
        'insecure-permissions',
        `config file is writable by group and others (mode 0666); only root may be able to change device specs ` +
          `(fix: chown root:root ${file} && chmod go-w ${file})`,
      ],
    ],
  );
  t.like(result.files[0], { file, status: 'invalid', devices: ['data'] });
});

test('allowInsecurePermissions turns the refusal into a warning and loads the file', async (t) => {
  const dir = await tempDir(t);
  await writeFile(dir, 'data.yaml', specYaml('data'), 0o666);

  const result = await loadSpecs([dir], { allowInsecurePermissions: true });

  t.deepEqual(
    result.devices.map((d) => d.name),
    ['data'],
  );
  t.deepEqual(brief(result.diagnostics), ['data.yaml:-:- warning insecure-permissions']);
  t.regex(result.diagnostics[0]?.message ?? '', /accepted because insecure permissions are allowed here$/);
});

test('a spec file owned by another user is refused even with mode 0644', async (t) => {
  const dir = await tempDir(t);
  const file = await writeFile(dir, 'data.yaml', specYaml('data'));
  await fs.chown(file, 1000, 1000);

  const result = await loadSpecs([dir]);

  t.deepEqual(result.devices, []);
  t.is(
    result.diagnostics[0]?.message.split(';')[0],
    'config file is owned by uid 1000, not root (mode 0644)',
  );
});

test('a world-writable config directory taints every file in it', async (t) => {
  const dir = await tempDir(t);
  await fs.chmod(dir, 0o777);
  await writeFile(dir, 'data.yaml', specYaml('data'));

  const result = await loadSpecs([dir]);

  t.deepEqual(result.devices, []);
  t.deepEqual(brief(result.diagnostics), [
    `${path.basename(dir)}:-:- error insecure-permissions`,
    'data.yaml:-:- error insecure-permissions',
  ]);
  t.regex(
    result.diagnostics[0]?.message ?? '',
    /^config directory is writable by group and others \(mode 0777\)/,
  );
  t.is(result.diagnostics[1]?.message, 'not used because its directory is refused (see the directory error)');
});

/** A config dir `cfg` with one good spec, inside a fresh directory whose mode and owner the test sets. */
async function configBelow(t: ExecutionContext): Promise<{ parent: string; config: string; spec: string }> {
  const parent = await tempDir(t);
  const config = path.join(parent, 'cfg');
  await fs.mkdir(config, { mode: 0o755 });
  const spec = await writeFile(config, 'data.yaml', specYaml('data'));
  return { parent, config, spec };
}

const aboveMessage = (dir: string, given: string, problem: string) =>
  `directory on the path to ${given} ${problem}; whoever can write it can replace what lies below it, ` +
  `so only root may be able to (fix: chown root:root ${dir} && chmod go-w ${dir})`;

test('a config dir below a directory that group or others can write is refused, like sshd StrictModes', async (t) => {
  for (const [mode, problem] of [
    [0o777, 'is writable by group and others (mode 0777)'],
    [0o775, 'is writable by group (mode 0775)'],
  ] as const) {
    const { parent, config, spec } = await configBelow(t);
    await fs.chmod(parent, mode);

    const result = await loadSpecs([config]);

    t.deepEqual(result.devices, [], problem);
    t.deepEqual(
      result.diagnostics.map((d) => [d.file, d.severity, d.code, d.message]),
      [
        [parent, 'error', 'insecure-permissions', aboveMessage(parent, config, problem)],
        [
          spec,
          'error',
          'insecure-permissions',
          'not used because a directory or symbolic link on its path is refused (see its error)',
        ],
      ],
    );
  }
});

test('a config dir below a directory owned by another user is refused', async (t) => {
  const { parent, config } = await configBelow(t);
  await fs.chown(parent, 1000, 1000);

  const result = await loadSpecs([config]);

  t.deepEqual(result.devices, []);
  t.is(
    result.diagnostics[0]?.message,
    aboveMessage(parent, config, 'is owned by uid 1000, not root (mode 0700)'),
  );
});

test('a root-owned sticky directory on the path (like /tmp) is accepted; a sticky one of another user is not', async (t) => {
  const { parent, config } = await configBelow(t);
  await fs.chmod(parent, 0o1777);
  const sticky = await loadSpecs([config]);
  t.deepEqual(sticky.diagnostics, []);
  t.deepEqual(
    sticky.devices.map((d) => d.name),
    ['data'],
  );

  await fs.chown(parent, 1000, 1000);
  const foreign = await loadSpecs([config]);
  t.deepEqual(foreign.devices, []);
  t.is(
    foreign.diagnostics[0]?.message,
    aboveMessage(
      parent,
      config,
      'is owned by uid 1000, not root and is writable by group and others (mode 01777)',
    ),
  );
});

test('directories reached through a symlink are checked, and so is the one holding the link', async (t) => {
  const { parent: writable, config } = await configBelow(t);
  await fs.chmod(writable, 0o777);
  const links = await tempDir(t);
  const throughLink = path.join(links, 'cfg');
  await fs.symlink(config, throughLink);
  const viaLink = await loadSpecs([throughLink]);
  t.deepEqual(viaLink.devices, [], 'the real directory lies below a writable one');
  t.deepEqual(
    viaLink.diagnostics.map((d) => d.file).sort(),
    [writable, path.join(throughLink, 'data.yaml')].sort(),
  );

  const safe = await configBelow(t);
  const openLinks = await tempDir(t);
  await fs.chmod(openLinks, 0o777);
  const swappable = path.join(openLinks, 'cfg');
  await fs.symlink(safe.config, swappable);
  const viaOpenLink = await loadSpecs([swappable]);
  t.deepEqual(viaOpenLink.devices, [], 'anyone can replace the link');
  t.deepEqual(
    viaOpenLink.diagnostics.map((d) => path.relative(openLinks, d.file) || '.'),
    ['.', path.join('cfg', 'data.yaml')],
  );
});

test('a symlink on the path owned by another user is refused even in a sticky directory', async (t) => {
  const { config } = await configBelow(t);
  const stickyDir = await tempDir(t);
  await fs.chmod(stickyDir, 0o1777);
  const link = path.join(stickyDir, 'cfg');
  await fs.symlink(config, link);
  t.deepEqual((await loadSpecs([link])).diagnostics, [], 'a root-owned link in a sticky directory is safe');

  await fs.lchown(link, 1000, 1000);
  const result = await loadSpecs([link]);
  t.deepEqual(result.devices, []);
  t.deepEqual(
    result.diagnostics.map((d) => [d.file, d.message]),
    [
      [
        link,
        `symbolic link on the path to ${link} is owned by uid 1000, not root; its owner can point it elsewhere ` +
          `(fix: chown -h root:root ${link})`,
      ],
      [
        path.join(link, 'data.yaml'),
        'not used because a directory or symbolic link on its path is refused (see its error)',
      ],
    ],
  );
});

test('an explicit spec file below a writable directory is refused; allowInsecurePermissions only warns', async (t) => {
  const { parent, config, spec } = await configBelow(t);
  await fs.chmod(parent, 0o777);

  const refused = await loadSpecs([spec]);
  t.deepEqual(refused.devices, []);
  t.deepEqual(
    refused.diagnostics.map((d) => [d.file, d.severity]),
    [
      [parent, 'error'],
      [spec, 'error'],
    ],
  );

  const allowed = await loadSpecs([spec, config], { allowInsecurePermissions: true });
  t.deepEqual(
    allowed.devices.map((d) => d.name),
    ['data'],
  );
  t.deepEqual(
    allowed.diagnostics.map((d) => [d.file, d.severity, d.message]),
    [
      [
        parent,
        'warning',
        `${aboveMessage(parent, spec, 'is writable by group and others (mode 0777)')}; accepted because insecure permissions are allowed here`,
      ],
    ],
    'each directory is reported once, however many paths lie below it',
  );
});

test('a 10 MB file is refused without being read, and maxFileBytes lowers the limit', async (t) => {
  const dir = await tempDir(t);
  const big = await writeFile(dir, 'big.yaml', Buffer.alloc(10 * 1024 * 1024, 0x61));
  const small = await writeFile(dir, 'small.yaml', specYaml('small'));

  const defaults = await loadSpecs([big]);
  t.deepEqual(
    defaults.diagnostics.map((d) => [d.code, d.message]),
    [['file-too-large', 'file is 10485760 bytes; spec files are limited to 1048576 bytes']],
  );

  const lowered = await loadSpecs([small], { maxFileBytes: 100 });
  t.deepEqual(
    lowered.diagnostics.map((d) => d.code),
    ['file-too-large'],
  );
  t.deepEqual(lowered.devices, []);
});

test('missing paths and dangling symlinks are reported as not found', async (t) => {
  const dir = await tempDir(t);
  await fs.symlink(path.join(dir, 'nowhere.yaml'), path.join(dir, 'dangling.yaml'));
  const missing = path.join(dir, 'missing');

  const result = await loadSpecs([missing, dir]);

  t.deepEqual(
    result.diagnostics.map((d) => [path.basename(d.file), d.code, d.message]),
    [
      ['dangling.yaml', 'path-not-found', 'is a symbolic link to nothing'],
      ['missing', 'path-not-found', 'no such file or directory'],
    ],
  );
});

test('two symlinks to one file count as one device', async (t) => {
  const dir = await tempDir(t);
  const disk = await writeFile(dir, 'disk.img', 'x');
  await fs.symlink(disk, path.join(dir, 'link-a'));
  await fs.symlink(disk, path.join(dir, 'link-b'));
  const specs = await tempDir(t);
  await writeFile(specs, 'a.yaml', specYaml('a', path.join(dir, 'link-a')));
  await writeFile(specs, 'b.yaml', specYaml('b', path.join(dir, 'link-b')));

  const result = await loadSpecs([specs]);

  t.deepEqual(result.devices, []);
  t.deepEqual(brief(result.diagnostics), [
    'a.yaml:6:15 error shared-device',
    'b.yaml:6:15 error shared-device',
  ]);
});

test('two block device nodes with the same major:minor are one device', async (t) => {
  const dir = await tempDir(t);
  const first = path.join(dir, 'blk-a');
  const second = path.join(dir, 'blk-b');
  // Nodes for a loop minor nothing uses: stat() sees their numbers, nothing opens them.
  await run('mknod', [first, 'b', '7', '250']);
  await run('mknod', [second, 'b', '7', '250']);
  const specs = await tempDir(t);
  await writeFile(specs, 'a.yaml', specYaml('a', first, second));

  const result = await loadSpecs([specs]);

  t.deepEqual(result.devices, []);
  t.deepEqual(
    result.diagnostics.map((d) => [d.code, d.line, d.column, d.message]),
    [
      [
        'same-main-and-spare',
        7,
        16,
        `spec.spareDevice must be a different device from spec.mainDevice (${second} and ${first} are one device)`,
      ],
    ],
  );
});

test('a file named twice is read once; an explicit file is read whatever its name', async (t) => {
  const dir = await tempDir(t);
  const file = await writeFile(dir, 'data.conf', specYaml('data'));

  const result = await loadSpecs([file, file]);

  t.deepEqual(result.diagnostics, []);
  t.deepEqual(
    result.devices.map((d) => d.name),
    ['data'],
  );
  t.is(result.files.length, 1);
});

test('two hard links to one file in a directory are one file, read once under the first name', async (t) => {
  const dir = await tempDir(t);
  const first = await writeFile(dir, 'a.yaml', specYaml('data'));
  await fs.link(first, path.join(dir, 'b.yaml'));

  const result = await loadSpecs([dir]);

  t.deepEqual(result.diagnostics, []);
  t.deepEqual(
    result.files.map((f) => [path.basename(f.file), f.status, f.devices]),
    [['a.yaml', 'valid', ['data']]],
  );
});

test('the config dir comes from DM_REMAP_CONFIG_DIR, else /etc/dm-remap.d', (t) => {
  t.is(defaultConfigDir({ DM_REMAP_CONFIG_DIR: '/srv/specs' }), '/srv/specs');
  t.is(defaultConfigDir({ DM_REMAP_CONFIG_DIR: '' }), '/etc/dm-remap.d');
  t.is(defaultConfigDir({}), '/etc/dm-remap.d');
});
