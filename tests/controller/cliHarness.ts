/**
 * Runs the reconcile verbs (plan, apply, run) the way an operator does, on a
 * simulated kernel kept in a JSON file (`--kernel sim:FILE`) and a real
 * config dir in a temporary directory; ava tears both down.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { ExecutionContext } from 'ava';
import type { CliIo } from '../../reconciler/cli/io.js';
import { runCli } from '../../reconciler/cli/program.js';
import { allCommands } from '../../reconciler/cli/commands/index.js';
import { readSimState, writeSimState } from '../../reconciler/controller/simStateFile.js';
import type { SimDeviceState, SimState } from '../../reconciler/controller/simStateFile.js';
import { mainIdentityOf } from './builders.js';

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

export const MAIN_SECTORS = 65_536;

export class CliWorld {
  private constructor(
    readonly dir: string,
    readonly configDir: string,
    readonly simFile: string,
  ) {}

  /**
   * A config dir and a simulated kernel holding the backing devices of `names`
   * (mains with a stable identity, blank spares) plus a foreign LVM device.
   */
  static async create(t: ExecutionContext, names: string[]): Promise<CliWorld> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dm-remap-cli-'));
    t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
    const configDir = path.join(dir, 'dm-remap.d');
    await fs.mkdir(configDir, { mode: 0o755 });
    const world = new CliWorld(dir, configDir, path.join(dir, 'kernel.json'));
    const blockDevices = names.flatMap((name, index) => [
      {
        path: `/dev/disk/by-id/${name}-main`,
        sizeSectors: MAIN_SECTORS,
        major: 8,
        minor: index * 32,
        identity: mainIdentityOf(name),
      },
      { path: `/dev/disk/by-id/${name}-spare`, sizeSectors: 8_192, major: 8, minor: index * 32 + 16 },
    ]);
    await world.writeKernel({
      moduleLoaded: false,
      blockDevices,
      devices: [{ name: 'vg-root', uuid: 'LVM-root', table: '0 2048 zero' }],
    });
    return world;
  }

  get kernelArgs(): string[] {
    return ['--config-dir', this.configDir, '--kernel', `sim:${this.simFile}`, '--log-format', 'json'];
  }

  /** Write a spec atomically; `fields` ("key: value") add to or override the default spec fields. */
  async writeSpec(name: string, fields: string[] = [], mode = 0o644): Promise<void> {
    const file = path.join(this.configDir, `${name}.yaml`);
    const defaults = [
      `mainDevice: /dev/disk/by-id/${name}-main`,
      `spareDevice: /dev/disk/by-id/${name}-spare`,
    ];
    const keyOf = (line: string) => line.slice(0, line.indexOf(':'));
    const overridden = new Set(fields.map(keyOf));
    const specFields = [...defaults.filter((line) => !overridden.has(keyOf(line))), ...fields];
    const text = [
      'apiVersion: dm-remap/v1alpha1',
      'kind: RemapDevice',
      'metadata:',
      `  name: ${name}`,
      'spec:',
      ...specFields.map((line) => `  ${line}`),
      '',
    ].join('\n');
    const temporary = path.join(this.configDir, `.${name}.yaml.tmp`);
    await fs.writeFile(temporary, text);
    await fs.chmod(temporary, mode);
    await fs.rename(temporary, file);
  }

  writeKernel(state: SimState): Promise<void> {
    return writeSimState(this.simFile, state);
  }

  kernel(): Promise<SimState> {
    return readSimState(this.simFile);
  }

  async device(name: string): Promise<SimDeviceState | undefined> {
    return (await this.kernel()).devices.find((device) => device.name === name);
  }

  /** What a change to the kernel would show in: each device's name, owner, tables and suspension. */
  async devices(): Promise<string[]> {
    return (await this.kernel()).devices.map((device) =>
      JSON.stringify([
        device.name,
        device.uuid,
        device.table,
        device.inactiveTable,
        device.suspended === true,
      ]),
    );
  }

  /** Run a verb in-process through the real command line parser. */
  cli(...args: string[]): Promise<CliRun> {
    return cli(args);
  }
}

/** Every verb, as the entry point registers them. */
const COMMANDS = allCommands();

/** Run dm-remap in-process through the real command line parser, with every verb registered. */
export async function cli(args: readonly string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env: {} };
  const status = await runCli(['node', 'dm-remap', ...args], io, COMMANDS);
  return { status, stdout, stderr };
}

/**
 * Start `dm-remap ARGS...` from the sources as a process of its own (the
 * daemon needs real signals and its own exit status); killed at teardown if
 * it is still running.
 */
export function spawnCli(
  t: ExecutionContext,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ChildProcessByStdio<null, Readable, Readable> {
  const child = spawn(process.execPath, ['--import', 'tsx/esm', 'reconciler/cli/main.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return child;
}
