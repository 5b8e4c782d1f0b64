// What `p2fs serve --metrics` exposes: the peer's registration, what it shares, its transfers and
// the messages it exchanges with the index server, as Prometheus metrics; and its health: 200 while
// the index server confirms its registration, 503 when the registration is lost or unconfirmed.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Peer, PeerEvents } from '../peer/peer.js';
import type { Health } from './http.js';

export interface PeerMetrics {
  registry: Registry;
  health(): Promise<Health>;
  /** Stops listening to the peer's events. */
  close(): void;
}

export function peerMetrics(peer: Peer): PeerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  new Gauge({
    name: 'p2fs_peer_registered', help: '1 while the index server confirms this peer\'s registration, else 0', registers,
    collect() {
      this.set(peer.registration === 'registered' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'p2fs_peer_shared_files', help: 'Files this peer shares (published to the index)', registers,
    collect() {
      this.set(peer.status().sharedFiles);
    },
  });
  new Gauge({
    name: 'p2fs_peer_transfers_active', help: 'Transfers in progress, by direction', labelNames: ['direction'], registers,
    collect() {
      const status = peer.status();
      this.set({ direction: 'upload' }, status.uploads.length);
      this.set({ direction: 'download' }, status.downloads.length);
    },
  });
  new Gauge({
    name: 'p2fs_peer_index_server_last_heard_seconds', help: 'Seconds since the index server last answered (absent before its first answer)', registers,
    collect() {
      const heard = peer.status().lastHeardFromServer;
      this.reset();
      if (heard) this.set((Date.now() - heard.getTime()) / 1000);
    },
  });
  const messages = new Counter({ name: 'p2fs_peer_index_messages_total', help: 'UDP messages exchanged with the index server, by direction and type (resends included)', labelNames: ['direction', 'type'], registers });
  const uploads = new Counter({ name: 'p2fs_peer_uploads_total', help: 'Downloads served to other peers, by outcome', labelNames: ['outcome'], registers });
  const downloads = new Counter({ name: 'p2fs_peer_downloads_total', help: 'Downloads from other peers, by outcome', labelNames: ['outcome'], registers });
  const downloaded = new Counter({ name: 'p2fs_peer_downloaded_bytes_total', help: 'Bytes of files downloaded and verified', registers });

  const listeners: { [K in 'message' | 'upload' | 'download']: (...args: PeerEvents[K]) => void } = {
    message: (seen) => messages.inc({ direction: seen.direction, type: seen.message.type }),
    upload: (event) => {
      if (event.kind === 'finished' || event.kind === 'failed' || event.kind === 'refused') uploads.inc({ outcome: event.kind });
    },
    download: (event) => {
      if (event.kind === 'finished') downloaded.inc(event.result.size);
      if (event.kind === 'finished' || event.kind === 'failed') downloads.inc({ outcome: event.kind });
    },
  };
  peer.on('message', listeners.message);
  peer.on('upload', listeners.upload);
  peer.on('download', listeners.download);

  return {
    registry,
    async health() {
      const status = peer.status();
      return { ok: status.registration === 'registered', registration: status.registration, server: status.server, lastHeard: status.lastHeardFromServer ?? null };
    },
    close() {
      peer.off('message', listeners.message);
      peer.off('upload', listeners.upload);
      peer.off('download', listeners.download);
    },
  };
}
