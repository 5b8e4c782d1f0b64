// How fast the installed commands answer: `p2fs --version` and friends run from dist/ with plain
// node (the goal: 0.2 s at most), beside `node -e 0` (the floor: node's own start) and the same
// command under tsx (what every command cost before the build existed).
//
//   npm run bench:startup                 # builds dist/ first
//   BENCH_RUNS=30 npm run bench:startup
//
// Each command runs BENCH_RUNS times (default 15), in turn with the others, so a machine that
// slows down for a moment slows every command alike; the table gives the median and the 90th
// percentile of the wall time of each, spawn to exit.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const GOAL_MS = 200;

const COMMANDS: Array<[label: string, args: string[]]> = [
  ['node -e 0 (the floor)', ['-e', '0']],
  ['p2fs --version', ['dist/scripts/peer.js', '--version']],
  ['p2fs-server --version', ['dist/scripts/server.js', '--version']],
  ['p2fs get --help', ['dist/scripts/peer.js', 'get', '--help']],
  ['p2fs-server --help', ['dist/scripts/server.js', '--help']],
  ['tsx scripts/peer.ts --version', ['--import', 'tsx', 'scripts/peer.ts', '--version']],
];

if (!existsSync(`${ROOT}/dist/scripts/peer.js`)) throw new Error('dist/ is missing: run npm run build first (npm run bench:startup does)');

const times = new Map<string, number[]>(COMMANDS.map(([label]) => [label, []]));
for (let run = 0; run < RUNS; run++) {
  for (const [label, args] of COMMANDS) {
    const started = performance.now();
    const result = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    const elapsed = performance.now() - started;
    if (result.status !== 0) throw new Error(`${label} exited ${result.status}: ${result.stderr}`);
    times.get(label)!.push(elapsed);
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const floor = percentile([...times.get(COMMANDS[0]![0])!].sort((a, b) => a - b), 0.5);
console.log(`start-up, ${RUNS} runs each, Node ${process.version} (goal: --version in ≤ ${GOAL_MS} ms)\n`);
console.log(`${'command'.padEnd(32)} ${'median'.padStart(8)} ${'p90'.padStart(8)} ${'over node'.padStart(10)}`);
for (const [label] of COMMANDS) {
  const sorted = [...times.get(label)!].sort((a, b) => a - b);
  const median = percentile(sorted, 0.5);
  console.log(`${label.padEnd(32)} ${`${median.toFixed(0)} ms`.padStart(8)} ${`${percentile(sorted, 0.9).toFixed(0)} ms`.padStart(8)} ${`+${(median - floor).toFixed(0)} ms`.padStart(10)}`);
}
