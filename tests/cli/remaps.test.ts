/** `dm-remap remaps`: the target's list_remaps (and list_pending), paged, as a table or JSON. */
import test from 'ava';
import { CliWorld } from '../controller/cliHarness.js';
import { SimulatedKernel } from '../../reconciler/kernel/simulated.js';
import { listTargetEntries } from '../../reconciler/cli/targetLists.js';

async function converged(t: Parameters<typeof CliWorld.create>[0]): Promise<CliWorld> {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  t.is((await world.cli('apply', ...world.kernelArgs)).status, 0);
  return world;
}

async function remapped(t: Parameters<typeof CliWorld.create>[0]): Promise<CliWorld> {
  const world = await converged(t);
  for (const [block, count] of [
    ['100', '8'],
    ['40', '2'],
  ] as const) {
    const run = await world.cli('remap-block', 'a', block, count, '--kernel', `sim:${world.simFile}`);
    t.is(run.status, 0, run.stderr);
  }
  return world;
}

test('remaps prints one row per remapped block, ascending, with the spare block it moved to', async (t) => {
  const world = await remapped(t);
  const run = await world.cli('remaps', 'a', '--kernel', `sim:${world.simFile}`);
  t.is(run.status, 0, run.stderr);
  const rows = run.stdout.split('\n');
  t.is(rows[0], '       BLOCK  SPARE BLOCK');
  t.is(rows[1], '          40            8');
  t.is(rows[2], '          41            9');
  t.is(rows[3], '         100            0');
  t.is(rows[10], '         107            7');
  t.is(rows.length, 12, 'ten rows, the header and the final newline');
  t.is(rows[11], '');
});

test('remaps --from --count -o json pages: the remaps asked for and the block to go on from', async (t) => {
  const world = await remapped(t);
  const sim = ['--kernel', `sim:${world.simFile}`];
  const first = await world.cli('remaps', 'a', '--from', '41', '--count', '3', '-o', 'json', ...sim);
  t.is(first.status, 0, first.stderr);
  t.deepEqual(JSON.parse(first.stdout), {
    device: 'a',
    blockSize: 4096,
    remaps: [
      { block: 41, spareBlock: 9 },
      { block: 100, spareBlock: 0 },
      { block: 101, spareBlock: 1 },
    ],
    next: 102,
  });
  const last = await world.cli('remaps', 'a', '--from', '102', '-o', 'json', ...sim);
  t.deepEqual(JSON.parse(last.stdout), {
    device: 'a',
    blockSize: 4096,
    remaps: [102, 103, 104, 105, 106, 107].map((block) => ({ block, spareBlock: block - 100 })),
    next: null,
  });
  const table = await world.cli('remaps', 'a', '--count', '2', ...sim);
  t.is(table.stdout.split('\n').at(-2), '(more from block 100: dm-remap remaps a --from 100)');
});

test('remaps --pending lists the blocks main could not read (none here)', async (t) => {
  const world = await remapped(t);
  const sim = ['--kernel', `sim:${world.simFile}`];
  const json = await world.cli('remaps', 'a', '--pending', '-o', 'json', ...sim);
  t.is(json.status, 0, json.stderr);
  t.deepEqual(JSON.parse(json.stdout), { device: 'a', blockSize: 4096, pending: [], next: null });
  t.is((await world.cli('remaps', 'a', '--pending', ...sim)).stdout, '       BLOCK\n');
});

test('remaps refuses a device dm-remap does not own, a missing one and a block beyond the device', async (t) => {
  const world = await converged(t);
  const sim = ['--kernel', `sim:${world.simFile}`];
  const foreign = await world.cli('remaps', 'vg-root', ...sim);
  t.is(foreign.status, 1);
  t.regex(foreign.stderr, /^dm-remap: remaps vg-root: .*DMREMAP-/);
  t.is((await world.cli('remaps', 'nosuch', ...sim)).status, 1);
  t.is((await world.cli('remaps', 'a', '--from', 'x', ...sim)).status, 64);
  t.is((await world.cli('remaps', 'a', '--count', '0', ...sim)).status, 64);
  // 65,536 sectors of 4 KiB blocks: blocks 0 to 8191.
  const beyond = await world.cli('remaps', 'a', '--from', '8192', ...sim);
  t.is(beyond.status, 64);
  t.regex(beyond.stderr, /8192 is beyond the last block of a \(8191\)/);
});

/** A kernel whose messages are recorded, with device r: 250,000 blocks, room for 125,000 remaps. */
async function bigDevice() {
  const kernel = new SimulatedKernel();
  await kernel.loadModule();
  kernel.addBlockDevice('/dev/vda', 2_000_000);
  kernel.addBlockDevice('/dev/vdb', 1_000_000);
  await kernel.create({ name: 'r', uuid: 'DMREMAP-r', table: '0 2000000 remap /dev/vda /dev/vdb' });
  const replies: number[] = [];
  const send = kernel.message.bind(kernel);
  kernel.message = async (name, args, signal) => {
    const reply = await send(name, args, signal);
    if (args[0] === 'list_remaps') replies.push(reply === '' ? 0 : reply.split('\n').length);
    return reply;
  };
  return { kernel, replies };
}

test('100,000 remaps are listed in order through many small replies, never one huge one', async (t) => {
  const { kernel, replies } = await bigDevice();
  // Dense where a disk's bad area is, every other block further on.
  await kernel.message('r', ['remap', '0', '50000']);
  for (let block = 50_000; block < 150_000; block += 2) await kernel.message('r', ['remap', String(block)]);
  let count = 0;
  let previous = -1;
  for await (const [block] of listTargetEntries(kernel, 'r', 'list_remaps', { from: 0, blocks: 250_000 })) {
    t.true(block! > previous);
    previous = block!;
    count += 1;
  }
  t.is(count, 100_000);
  t.true(replies.length > 10, `${replies.length} replies`);
  t.true(Math.max(...replies) <= 8192, `largest reply ${Math.max(...replies)} lines`);
});

test('a sparse device is paged with growing ranges, and listing stops once every remap was seen', async (t) => {
  const { kernel, replies } = await bigDevice();
  await kernel.message('r', ['remap', '3', '1']);
  await kernel.message('r', ['remap', '200000', '1']);
  const listed = [];
  for await (const entry of listTargetEntries(kernel, 'r', 'list_remaps', {
    from: 0,
    blocks: 250_000,
    expected: 2,
  }))
    listed.push(entry);
  t.deepEqual(listed, [
    [3, 0],
    [200000, 1],
  ]);
  t.true(replies.length < 10, `${replies.length} replies for 250,000 blocks`);
});
