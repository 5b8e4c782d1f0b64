// Runs the reliability tests (test/reliability) and prints their results as one Markdown table:
// scenario, load, faults injected, operations attempted, completed, lost, time.
//
//   tsx scripts/reliability-report.ts            # every scenario
//   tsx scripts/reliability-report.ts crash      # only test files whose name contains "crash"
//
// Each scenario appends a JSON row to $P2FS_RELIABILITY_REPORT (test/reliability/report.ts); this
// script points that at a temporary file, runs node --test, and prints the rows. Exits with the
// tests' exit code.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HEADER, formatRow, type ReportRow } from '../test/reliability/report.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const filter = process.argv[2] ?? '';
const files = readdirSync(join(root, 'test/reliability'))
  .filter((f) => f.endsWith('.test.ts') && f.includes(filter))
  .sort()
  .map((f) => join('test/reliability', f));
if (files.length === 0) {
  process.stderr.write(`no test file in test/reliability matches ${JSON.stringify(filter)}\n`);
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'p2fs-reliability-'));
const rowsFile = join(dir, 'rows.jsonl');
const started = performance.now();
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=dot', ...files], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, P2FS_RELIABILITY_REPORT: rowsFile },
});
let rows: ReportRow[] = [];
try {
  rows = readFileSync(rowsFile, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as ReportRow);
} catch {
  // no scenario reported (all skipped or all failed before reporting)
}
rmSync(dir, { recursive: true, force: true });

process.stdout.write(`\n${HEADER}\n|---|---|---|---:|---:|---:|---:|\n`);
for (const row of rows) process.stdout.write(`${formatRow(row)}\n`);
process.stdout.write(`\n${files.length} test files, ${((performance.now() - started) / 1000).toFixed(0)} s in all; tests ${run.status === 0 ? 'passed' : 'FAILED'}\n`);
process.exit(run.status ?? 1);
