// The page's view of downloads: the Peer's download events, with rate and time left added, sent
// to the page at a bounded pace, and a list of what finished (or failed) since the UI started.
import type { DownloadEvent, DownloadInfo, Peer } from '../peer/peer.js';
import type { EventHub } from './events.js';

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
  state: 'running' | 'finished' | 'failed';
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
  private readonly listener = (event: DownloadEvent) => this.onEvent(event);

  constructor(
    private readonly peer: Peer,
    private readonly hub: EventHub,
    private readonly now: () => number = () => performance.now(),
  ) {
    peer.on('download', this.listener);
  }

  list(): { running: TransferView[]; finished: TransferView[] } {
    return { running: [...this.running.values()].map((r) => r.view), finished: [...this.done] };
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
      view.state = 'failed';
      const code = (event.error as { code?: unknown }).code;
      view.error = { code: typeof code === 'string' ? code : 'FAILED', message: event.error.message };
    }
    if (event.kind === 'finished' || event.kind === 'failed') {
      view.finishedAt = new Date().toISOString();
      this.running.delete(view.id);
      this.done.unshift(view);
      this.done.length = Math.min(this.done.length, MAX_FINISHED);
    }
    entry.lastSent = at;
    this.hub.broadcast('download', view);
  }

  private start(download: DownloadInfo): Running {
    const view: TransferView = {
      id: download.id, file: download.file, holder: download.holder, holders: download.holders ?? [download.holder], dropped: [], state: 'running', bytes: 0,
      totalBytes: download.totalBytes ?? null, rate: 0, secondsLeft: null, startedAt: download.startedAt.toISOString(),
    };
    const entry = { view, samples: [], lastSent: -Infinity };
    this.running.set(download.id, entry);
    return entry;
  }
}

function update(view: TransferView, download: DownloadInfo): void {
  view.bytes = download.bytes;
  view.holder = download.holder;
  if (download.holders) view.holders = download.holders;
  if (download.totalBytes !== undefined) view.totalBytes = download.totalBytes;
}
