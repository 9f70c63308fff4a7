// The CLI bundled into one ES module by esbuild: what `npm run build` writes
// over dist/reconciler/cli/main.js (node 20, started by bin, the guest rig and
// the tests) and what the Debian package ships (node 18, Debian 12's nodejs).
// One definition for both, so they cannot drift.
//
//   tsx scripts/bundle.ts --outfile FILE [--target node20] [--metafile FILE]
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

const { values } = parseArgs({
  options: {
    outfile: { type: 'string' },
    target: { type: 'string', default: 'node20' },
    metafile: { type: 'string' },
  },
});
if (values.outfile === undefined) {
  console.error('bundle: --outfile FILE is required');
  process.exit(64);
}

const result = await esbuild.build({
  entryPoints: ['reconciler/cli/main.ts'],
  bundle: true,
  platform: 'node',
  target: values.target,
  // ESM keeps main.ts's top-level await; CommonJS dependencies that require()
  // node builtins get a real require from the banner.
  format: 'esm',
  banner: {
    js: "import { createRequire as __dmRemapRequire } from 'node:module'; const require = __dmRemapRequire(import.meta.url);",
  },
  outfile: values.outfile,
  metafile: values.metafile !== undefined,
  legalComments: 'none',
  logLevel: 'warning',
});
if (values.metafile !== undefined) await writeFile(values.metafile, JSON.stringify(result.metafile));
