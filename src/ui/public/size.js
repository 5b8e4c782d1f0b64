// The one size formatter of the page, the same rule as the command line's (src/cli/format.ts
// bytes(), checked against it by test/ui/size.test.ts): bytes below 1,000, then kB, MB, GB, TB in
// powers of 1,000 with three significant figures.
const UNITS = ['kB', 'MB', 'GB', 'TB'];

export function formatSize(n) {
  if (n === null || n === undefined) return '?';
  if (n < 1000) return `${n} B`;
  let value = n / 1000;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${UNITS[unit]}`;
}
