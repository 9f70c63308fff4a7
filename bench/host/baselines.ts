/**
 * The baselines of the host figures, as small plain-node programs measured
 * the same way as dm-remap (bench/README.md says why each one).
 */

/**
 * The floor of a steady pass: stat every spec file (what a change cache must
 * do) and read and parse the simulated kernel's file (what observing the
 * simulated kernel costs). Prints the CPU ms of each of ITERATIONS rounds
 * after three warm-up rounds, as a JSON array. Arguments: CONFIG_DIR KERNEL_FILE ITERATIONS.
 */
export const PASS_FLOOR = `
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
const [configDir, kernelFile, iterations] = process.argv.slice(1);
const round = () => {
  for (const name of readdirSync(configDir)) statSync(join(configDir, name));
  return JSON.parse(readFileSync(kernelFile, 'utf8')).devices.length;
};
const samples = [];
for (let index = 0; index < 3 + Number(iterations); index += 1) {
  const before = process.cpuUsage();
  round();
  const used = process.cpuUsage(before);
  if (index >= 3) samples.push((used.user + used.system) / 1000);
}
console.log(JSON.stringify(samples));
`;

/**
 * What a one-shot command cannot avoid: start node, read every spec file and
 * the simulated kernel's file once. Arguments: CONFIG_DIR KERNEL_FILE.
 */
export const READ_ALL_ONCE = `
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
const [configDir, kernelFile] = process.argv.slice(1);
let bytes = 0;
for (const name of readdirSync(configDir)) bytes += readFileSync(join(configDir, name), 'utf8').length;
if (kernelFile) bytes += JSON.parse(readFileSync(kernelFile, 'utf8')).devices.length;
console.log(bytes);
`;

/** An idle node process: the RSS and CPU any node daemon starts from. */
export const IDLE_NODE = 'setInterval(() => {}, 1e9)';
