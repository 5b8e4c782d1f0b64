// The page's view of downloads: the Peer's download events, with rate and time left added, sent
// to the page at a bounded pace, and a list of what finished (or failed) since the UI started. A
// download the page paused or cancelled (download-control.ts) ends as `paused` or `cancelled`, not
// as failed: the control says so before it stops the download.
import type { DownloadEvent, DownloadInfo, Peer } from '../peer/peer.js';
import type { EventHub } from './events.js';
import { plainWords } from './plain-words.js';

/** Progress reaches the page at most this often per download (the peer reports every write). */
export const PROGRESS_INTERVAL_MS = 150;

/** Rate is measured over about this window, so it follows changes without jumping at every write. */
const RATE_WINDOW_MS = 2_000;

/** Finished and failed downloads kept for the page. */
const MAX_FINISHED = 100;

export interface TransferView {
  id: number;
  file: string;
  holder: string;
  /** The holders being fetched from now (a download by pieces uses several at once). */
  holders: string[];
  /** When finished: bytes each holder sent that were kept. */
  bytesByHolder?: Record<string, number>;
  /** Holders dropped from the download (a corrupt piece, a lie, a broken frame), and why. */
  dropped: Array<{ holder: string; reason: string }>;
  state: 'running' | 'paused' | 'finished' | 'failed' | 'cancelled';
  bytes: number;
  totalBytes: number | null;
  /** Bytes per second over the last couple of seconds. */
  rate: number;
  /** Seconds left at the current rate, when the size is known and the rate is not zero. */
  secondsLeft: number | null;
  startedAt: string;
  finishedAt?: string;
  sha256?: string;
  /** The URL that opens the downloaded file (served from the download folder). */
  url?: string;
  error?: { code: string; message: string };
}

interface Running {
  view: TransferView;
  samples: Array<{ at: number; bytes: number }>;
  lastSent: number;
}

export class Transfers {
  private readonly running = new Map<number, Running>();
  private readonly done: TransferView[] = [];
  /** Paused downloads by file name: one each, replaced when the file is downloaded again. */
  private readonly paused = new Map<string, TransferView>();
  /** Why the page is stopping a download, by id, until its end arrives. */
  private readonly stopping = new Map<number, 'paused' | 'cancelled'>();
  private readonly listener = (event: DownloadEvent) => this.onEvent(event);

  constructor(
    private readonly peer: Peer,
    private readonly hub: EventHub,
    private readonly now: () => number = () => performance.now(),
  ) {
    peer.on('download', this.listener);
  }

  list(): { running: TransferView[]; paused: TransferView[]; finished: TransferView[] } {
    return { running: [...this.running.values()].map((r) => r.view), paused: [...this.paused.values()], finished: [...this.done] };
  }

  /** The running download of `file`, if any. */
  runningOf(file: string): TransferView | undefined {
    for (const { view } of this.running.values()) if (view.file === file) return view;
    return undefined;
  }

  pausedOf(file: string): TransferView | undefined {
    return this.paused.get(file);
  }

  /** The download `id` is about to be stopped by the page: its end is `reason`, not a failure. */
  stop(id: number, reason: 'paused' | 'cancelled'): void {
    this.stopping.set(id, reason);
  }

  /** A paused download given up: its view becomes cancelled. */
  cancelPaused(file: string): void {
    const view = this.paused.get(file);
    if (!view) return;
    this.paused.delete(file);
    view.state = 'cancelled';
    view.finishedAt = new Date().toISOString();
    this.finish(view);
    this.hub.broadcast('download', view);
  }

  close(): void {
    this.peer.off('download', this.listener);
  }

  private onEvent(event: DownloadEvent): void {
    const at = this.now();
    const entry = this.running.get(event.download.id) ?? this.start(event.download);
    const view = entry.view;
    update(view, event.download);
    entry.samples.push({ at, bytes: view.bytes });
    while (entry.samples.length > 2 && at - entry.samples[1]!.at > RATE_WINDOW_MS) entry.samples.shift();
    const first = entry.samples[0]!;
    const seconds = (at - first.at) / 1000;
    view.rate = seconds > 0 ? Math.max(0, (view.bytes - first.bytes) / seconds) : 0;
    view.secondsLeft = view.totalBytes !== null && view.rate > 0 ? Math.max(0, (view.totalBytes - view.bytes) / view.rate) : null;

    if (event.kind === 'progress') {
      if (at - entry.lastSent < PROGRESS_INTERVAL_MS && view.bytes !== view.totalBytes) return;
    } else if (event.kind === 'finished') {
      view.state = 'finished';
      view.bytes = event.result.size;
      view.totalBytes = event.result.size;
      view.sha256 = event.result.sha256;
      view.holder = event.result.holder;
      view.holders = Object.keys(event.result.bytesByHolder);
      view.bytesByHolder = event.result.bytesByHolder;
      view.secondsLeft = 0;
      view.url = `/downloads/${encodeURIComponent(event.result.file)}`;
    } else if (event.kind === 'dropped') {
      view.dropped.push({ holder: event.dropped.holder, reason: event.dropped.reason });
    } else if (event.kind === 'failed') {
      const stoppedAs = this.stopping.get(view.id);
      view.state = stoppedAs ?? 'failed';
      view.secondsLeft = null;
      view.rate = 0;
      if (!stoppedAs) view.error = failure(event.error, view.file);
    }
    if (event.kind === 'finished' || event.kind === 'failed') {
      this.stopping.delete(view.id);
      view.finishedAt = new Date().toISOString();
      this.running.delete(view.id);
      if (view.state === 'paused') this.paused.set(view.file, view);
      else this.finish(view);
    }
    entry.lastSent = at;
    this.hub.broadcast('download', view);
  }

  private finish(view: TransferView): void {
    this.done.unshift(view);
    this.done.length = Math.min(this.done.length, MAX_FINISHED);
  }

  private start(download: DownloadInfo): Running {
    this.paused.delete(download.file); // resumed: the new download takes its place
    const view: TransferView = {
      id: download.id, file: download.file, holder: download.holder, holders: download.holders ?? [download.holder], dropped: [], state: 'running', bytes: 0,
      totalBytes: download.totalBytes ?? null, rate: 0, secondsLeft: null, startedAt: download.startedAt.toISOString(),
    };
    const entry = { view, samples: [], lastSent: -Infinity };
    this.running.set(download.id, entry);
    return entry;
  }
}

/** A failed download's error for the page: its code, and what happened in plain words. */
function failure(error: Error, file: string): { code: string; message: string } {
  const { code, attempts } = error as { code?: unknown; attempts?: [] };
  const known = typeof code === 'string' ? code : 'FAILED';
  return { code: known, message: plainWords({ code: known, message: error.message, file, attempts }) };
}

function update(view: TransferView, download: DownloadInfo): void {
  view.bytes = download.bytes;
  view.holder = download.holder;
  if (download.holders) view.holders = download.holders;
  if (download.totalBytes !== undefined) view.totalBytes = download.totalBytes;
}
