// Download progress: a bar redrawn in place on a terminal; plain lines (every tenth, or every few
// seconds) when the output is a file or a pipe, so logs stay readable.
import { bytes, seconds } from './format.js';

/** A terminal redraw at most this often: smooth to the eye, cheap next to a 100 MB/s transfer. */
const REDRAW_MS = 100;
/** Off a terminal, a line at least this often even when the next tenth is far away. */
const PLAIN_LINE_MS = 5_000;
/** The rate is measured over about this much recent time, so it follows a change of holder. */
const RATE_WINDOW_MS = 3_000;

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressReporter {
  /** `holders`: the names of the holders being fetched from now, when several may be. */
  update(done: number, total: number | undefined, holders?: readonly string[]): void;
  /** Clears the bar (on a terminal), then prints `line` if given. */
  finish(line?: string): void;
}

/** `  · 3 holders: alice, bob, carol` (the first few names), or nothing for one holder or none known. */
function holdersText(holders: readonly string[] | undefined): string {
  if (holders === undefined || holders.length < 2) return '';
  const named = holders.slice(0, SHOWN_HOLDERS).join(', ');
  return `  · ${holders.length} holders: ${named}${holders.length > SHOWN_HOLDERS ? ', …' : ''}`;
}

/** Holder names shown in the bar; the count says how many more. */
const SHOWN_HOLDERS = 3;

export function progressReporter(label: string, stream: ProgressStream, now: () => number = () => performance.now()): ProgressReporter {
  const samples: Array<[number, number]> = [];
  let lastDraw = -Infinity;
  let lastTenth = -1;
  let drawn = false;

  const rate = (): number => {
    const [t0, b0] = samples[0]!;
    const [t1, b1] = samples.at(-1)!;
    return t1 > t0 ? ((b1 - b0) / (t1 - t0)) * 1000 : NaN;
  };
  const describe = (done: number, total: number | undefined, holders: readonly string[] | undefined) => {
    const speed = rate();
    const speedText = Number.isFinite(speed) ? `${bytes(Math.round(speed))}/s` : '…';
    const from = holdersText(holders);
    if (total === undefined || total === 0) return { percent: undefined, text: `${bytes(done)}  ${speedText}${from}` };
    const percent = Math.min(100, Math.floor((done / total) * 100));
    const left = Number.isFinite(speed) && speed > 0 ? `  ${seconds(((total - done) / speed) * 1000)} left` : '';
    return { percent, text: `${bytes(done)} / ${bytes(total)}  ${speedText}${left}${from}` };
  };

  return {
    update(done, total, holders) {
      const t = now();
      samples.push([t, done]);
      while (samples.length > 2 && t - samples[0]![0] > RATE_WINDOW_MS) samples.shift();
      const { percent, text } = describe(done, total, holders);
      if (stream.isTTY) {
        if (t - lastDraw < REDRAW_MS && done !== total) return;
        lastDraw = t;
        const barWidth = Math.max(10, Math.min(30, (stream.columns ?? 80) - label.length - text.length - 12));
        const filled = percent === undefined ? 0 : Math.round((percent / 100) * barWidth);
        const bar = percent === undefined ? '' : ` [${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}] ${String(percent).padStart(3)}%`;
        stream.write(`\r\x1b[K${label}${bar}  ${text}`);
        drawn = true;
        return;
      }
      const tenth = percent === undefined ? -1 : Math.floor(percent / 10);
      if (tenth > lastTenth || t - lastDraw >= PLAIN_LINE_MS) {
        lastTenth = Math.max(lastTenth, tenth);
        lastDraw = t;
        stream.write(`${label}: ${percent === undefined ? '' : `${percent}%  `}${text}\n`);
      }
    },
    finish(line) {
      if (drawn) stream.write('\r\x1b[K');
      if (line !== undefined) stream.write(`${line}\n`);
    },
  };
}
