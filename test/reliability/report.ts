// One row of the reliability table per scenario, printed as the test ends (node --test shows a test
// file's stdout), and appended as JSON to $P2FS_RELIABILITY_REPORT when set, for
// scripts/reliability-report.ts to gather into one table.
import { appendFileSync } from 'node:fs';

export interface ReportRow {
  scenario: string;
  load: string;
  faults: string;
  attempted: number;
  completed: number;
  /** Acknowledged mutations missing from the final state (must be 0). */
  lost: number;
  ms: number;
  notes?: string;
}

export const HEADER = '| scenario | load | faults injected | ops attempted | completed | lost | time |';

export function formatRow(row: ReportRow): string {
  const seconds = `${(row.ms / 1000).toFixed(1)} s`;
  const notes = row.notes ? ` (${row.notes})` : '';
  return `| ${row.scenario} | ${row.load} | ${row.faults} | ${row.attempted} | ${row.completed}${notes} | ${row.lost} | ${seconds} |`;
}

export function report(row: ReportRow): void {
  console.log(`reliability: ${formatRow(row)}`);
  const file = process.env.P2FS_RELIABILITY_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify(row)}\n`);
}
