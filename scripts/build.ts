// npm run build: the installable commands. tsc compiles the two programs (scripts/peer.ts and
// scripts/server.ts) and everything in src/ to dist/, keeping the layout, so `p2fs` and
// `p2fs-server` run with plain node (no tsx, no compile at start). What tsc does not emit is copied
// beside it: the generated validators (JavaScript already) and the web page's static files.
import { execFileSync } from 'node:child_process';
import { chmod, cp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');

/** Files tsc leaves out (relative to the root), copied as they are. */
const ASSETS = ['src/generated/validators.js', 'src/ui/public'];
/** The bins: npm makes them executable on install; made so here too, to run them from a clone. */
const PROGRAMS = ['scripts/peer.js', 'scripts/server.js'];

// The typescript package exports no path to its command: find it beside its package.json.
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');

await rm(DIST, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
for (const asset of ASSETS) await cp(join(ROOT, asset), join(DIST, asset), { recursive: true });
for (const program of PROGRAMS) await chmod(join(DIST, program), 0o755);
console.log(`built ${DIST}`);
