/**
 * Runs the shared contract cases against DmsetupKernel on the real kernel.
 * Needs root, device-mapper and loop (the guest: tests/guest/reconciler-contract.sh).
 * Prints one line per case and "N passed, N failed, N skipped"; exits non-zero
 * when a case failed or none passed.
 *
 * Usage: node --import tsx/esm tests/contract/run-real.ts [--linear] [FILTER]
 *   --linear  use the linear fallback even when the remap module loads
 *   FILTER    run only cases whose name contains it
 */
import { contractCases } from './cases.js';
import { realFixture } from './real-fixture.js';

const args = process.argv.slice(2);
const forceLinear = args.includes('--linear');
const filter = args.find((arg) => !arg.startsWith('--'));

let passed = 0;
let failed = 0;
let skipped = 0;
let remapSeen: boolean | undefined;

for (const contractCase of contractCases) {
  if (filter !== undefined && !contractCase.name.includes(filter)) continue;
  const fixture = await realFixture({ forceLinear });
  remapSeen = fixture.remapAvailable;
  const label = fixture.remapAvailable ? 'remap' : 'linear fallback';
  if (contractCase.needsRemap && !fixture.remapAvailable) {
    skipped++;
    console.log(`skip [${label}] ${contractCase.name} (needs the remap target)`);
    await fixture.cleanup();
    continue;
  }
  const started = Date.now();
  try {
    await contractCase.run(fixture);
    passed++;
    console.log(`ok   [${label}] ${contractCase.name} (${Date.now() - started} ms)`);
  } catch (error) {
    failed++;
    console.log(`FAIL [${label}] ${contractCase.name}`);
    console.log(
      `     ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`.replace(
        /\n/g,
        '\n     ',
      ),
    );
  } finally {
    await fixture.cleanup().catch((error: unknown) => {
      failed++;
      console.log(`FAIL cleanup after "${contractCase.name}": ${String(error)}`);
    });
  }
}

console.log(`target: ${remapSeen === undefined ? 'none' : remapSeen ? 'remap' : 'linear fallback'}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
