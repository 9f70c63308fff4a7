/**
 * A preload for explaining a process's memory without changing it: on
 * SIGUSR2 it appends process.memoryUsage() (before and after a full GC when
 * node runs with --expose-gc) to MEM_PROBE_DIR/usage.jsonl and writes a heap
 * snapshot beside it (none with MEM_PROBE_NOSNAP=1), for
 * bench/lib/heapsnapshot.ts. Built by tsc to dist/bench/lib/memory-probe.js:
 *   MEM_PROBE_DIR=/tmp/probe node --expose-gc --import ./dist/bench/lib/memory-probe.js \
 *     dist/reconciler/cli/main.js run ...
 *   kill -USR2 PID
 */
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { writeHeapSnapshot } from 'node:v8';

const dir = process.env.MEM_PROBE_DIR ?? process.cwd();
let taken = 0;

process.on('SIGUSR2', () => {
  taken += 1;
  const before = process.memoryUsage();
  (globalThis as { gc?: () => void }).gc?.();
  const afterGc = process.memoryUsage();
  const snapshot =
    process.env.MEM_PROBE_NOSNAP === '1'
      ? undefined
      : writeHeapSnapshot(path.join(dir, `probe-${process.pid}-${taken}.heapsnapshot`));
  appendFileSync(
    path.join(dir, 'usage.jsonl'),
    JSON.stringify({ pid: process.pid, taken, before, afterGc, snapshot }) + '\n',
  );
});
