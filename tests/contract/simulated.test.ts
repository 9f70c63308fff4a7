/**
 * The shared contract cases against SimulatedKernel: once with the remap
 * module available and once without it (the linear fallback the real-kernel
 * runner uses before the module exists), so both paths of every case run.
 */
import test from 'ava';

import { contractCases } from './cases.js';
import { simulatedFixture } from './simulated-fixture.js';

for (const moduleInstalled of [true, false]) {
  const label = moduleInstalled ? 'remap' : 'linear fallback';
  for (const contractCase of contractCases) {
    if (contractCase.needsRemap && !moduleInstalled) continue;
    test(`[simulated, ${label}] ${contractCase.name}`, async (t) => {
      const fixture = await simulatedFixture({ moduleInstalled });
      t.teardown(() => fixture.cleanup());
      t.is(fixture.remapAvailable, moduleInstalled);
      await t.notThrowsAsync(() => contractCase.run(fixture));
    });
  }
}
