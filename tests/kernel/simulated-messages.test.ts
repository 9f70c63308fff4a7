/** The simulated target's messages beyond the shared contract: pending blocks and saved remaps. */
import test from 'ava';

import { SimulatedKernel } from '../../reconciler/kernel/simulated.js';

async function device() {
  const kernel = new SimulatedKernel();
  await kernel.loadModule();
  kernel.addBlockDevice('/dev/vda', 8192);
  kernel.addBlockDevice('/dev/vdb', 800);
  const table = '0 8192 remap /dev/vda /dev/vdb 4 block_size 8 read_retries 3';
  await kernel.create({ name: 'r', uuid: 'DMREMAP-r', table });
  return kernel;
}

test('list_pending lists the blocks marked pending, ascending, within the range asked', async (t) => {
  const kernel = await device();
  kernel.markPending('r', [900, 7, 300]);
  t.is(await kernel.message('r', ['list_pending']), '7\n300\n900');
  t.is(await kernel.message('r', ['list_pending', '8', '500']), '300');
  t.is((await kernel.observe()).devices[0]?.remap?.status.pendingBlocks, 3);
});

test('saved remaps come back on a new kernel with their blocks, slots and counts', async (t) => {
  const kernel = await device();
  await kernel.message('r', ['remap', '40', '3']);
  await kernel.message('r', ['remap', '10', '2']);
  const saved = kernel.savedRemaps('r');
  const restored = await device();
  restored.restoreRemaps('r', JSON.parse(JSON.stringify(saved)));
  t.is(await restored.message('r', ['list_remaps']), '10 3\n11 4\n40 0\n41 1\n42 2');
  t.is((await restored.observe()).devices[0]?.remap?.status.remappedBlocks, 5);
});
