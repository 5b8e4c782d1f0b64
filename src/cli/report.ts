// What a peer reports as it runs: every message crossing the wire (--verbose, a course requirement),
// transfers starting and ending, registration changes. Lines for people, JSON lines with --json.
import type { EventEmitter } from 'node:events';
import type { Peer, PeerEvents } from '../peer/peer.js';
import { bytes, hostPort, messageLine } from './format.js';
import { redactToken } from '../client/index.js';

export interface ReportStream {
  write(text: string): unknown;
}

export interface ReportOptions {
  json: boolean;
  /** Every UDP message, and the TCP requests and closing frames of each transfer. */
  messages: boolean;
  /** Share changes, uploads and registration (serve's running log). Trouble with the registration is always reported. */
  activity: boolean;
  /** Prefix for each line (the demo names the peer speaking). */
  prefix?: string;
}

/** Subscribes `stream` to the peer's events; returns the unsubscribe. */
export function reportPeer(peer: Peer, stream: ReportStream, options: ReportOptions): () => void {
  const prefix = options.prefix ?? '';
  const say = (text: string, data: Record<string, unknown>) =>
    stream.write(options.json ? `${JSON.stringify({ ...data, peer: peer.name })}\n` : `${prefix}${text}\n`);

  const emitter = peer as unknown as EventEmitter;
  const listeners: Array<[string, (...args: unknown[]) => void]> = [];
  const on = <K extends keyof PeerEvents>(event: K, listener: (...args: PeerEvents[K]) => void) => {
    emitter.on(event, listener as (...args: unknown[]) => void);
    listeners.push([event, listener as (...args: unknown[]) => void]);
  };

  if (options.messages) {
    on('message', (seen) => {
      say(messageLine(seen), { event: 'message', direction: seen.direction, server: seen.server, message: redactToken(seen.message), ...(seen.attempt ? { attempt: seen.attempt } : {}), ...(seen.ignored ? { ignored: seen.ignored } : {}) });
    });
  }
  on('download', (event) => {
    const d = event.download;
    if (event.kind === 'started' && options.messages) say(`→ DOWNLOAD ${JSON.stringify({ file: d.file })} to ${d.holder}`, { event: 'download-started', file: d.file, holder: d.holder });
    if (event.kind === 'finished' && options.messages) {
      const r = event.result;
      // Every chunk but the last came as a FILE frame: none at all for a one-chunk file.
      const frames = r.chunks > 1 ? `FILE ×${r.chunks - 1}, ` : '';
      say(`← ${frames}FILE-END ${JSON.stringify({ file: r.file, chunk: r.chunks, size: r.size, sha256: r.sha256 })} from ${r.holder}`, { event: 'download-finished', file: r.file, size: r.size, sha256: r.sha256, holder: r.holder });
    }
    if (event.kind === 'dropped') {
      const { holder, code, reason } = event.dropped;
      const text = code === 'CORRUPT_PIECE' ? `${holder} sent a corrupt piece of ${d.file}; dropped` : `${holder} ${reason}; dropped`;
      say(text, { event: 'holder-dropped', file: d.file, holder, code, reason });
    }
    if (event.kind === 'failed' && options.activity) say(`download of ${JSON.stringify(d.file)} failed: ${event.error.message}`, { event: 'download-failed', file: d.file, error: event.error.message });
  });
  on('upload', (event) => {
    if (event.kind === 'started' && options.messages) say(`← DOWNLOAD ${JSON.stringify({ file: event.upload.file, ...(event.upload.fromChunk > 1 ? { fromChunk: event.upload.fromChunk } : {}) })} from ${event.upload.peer}`, { event: 'upload-started', file: event.upload.file, to: event.upload.peer });
    if (!options.activity) return;
    // A download by pieces asks for window after window: one line per window only with --verbose.
    const ranged = event.kind !== 'refused' && event.upload.count !== undefined;
    if (event.kind === 'finished' && ranged) {
      const { file, fromChunk, nextChunk, peer } = event.upload;
      if (options.messages) say(`sent chunks ${fromChunk}–${nextChunk - 1} of ${JSON.stringify(file)} to ${peer}`, { event: 'upload-finished', file, to: peer, fromChunk, toChunk: nextChunk - 1 });
      return;
    }
    if (event.kind === 'finished') say(`sent ${JSON.stringify(event.upload.file)} (${bytes(event.upload.size)}) to ${event.upload.peer}`, { event: 'upload-finished', file: event.upload.file, to: event.upload.peer, size: event.upload.size });
    if (event.kind === 'failed') say(`upload of ${JSON.stringify(event.upload.file)} to ${event.upload.peer} failed: ${event.error.message}`, { event: 'upload-failed', file: event.upload.file, to: event.upload.peer, error: event.error.message });
    if (event.kind === 'refused') say(`refused ${event.file === undefined ? 'a request' : JSON.stringify(event.file)} from ${event.peer}: ${event.error.message}`, { event: 'upload-refused', file: event.file, from: event.peer, error: event.error.message });
  });
  on('share', (change) => {
    if (!options.activity) return;
    const parts = [
      change.publish.length > 0 ? `published ${change.publish.map((f) => JSON.stringify(f.name)).join(', ')}` : '',
      change.remove.length > 0 ? `removed ${change.remove.map((n) => JSON.stringify(n)).join(', ')}` : '',
    ].filter(Boolean);
    say(`share: ${parts.join('; ')}`, { event: 'share', published: change.publish, removed: change.remove });
  });
  on('registration', (change) => {
    if (!options.activity && change.state === 'registered' && !change.reason) return;
    if (!options.activity && change.state === 'unregistered') return;
    const contact = peer.contact;
    const why = change.reason ? `: ${change.reason}` : '';
    const text = {
      registered: `registered as ${peer.name} at ${hostPort(contact.ip, contact.tcpPort)}${change.reason ? ` (${change.reason})` : ''}`,
      unregistered: `de-registered ${peer.name}${why}`,
      unreachable: `registration not refreshed${why}; trying again at the next refresh`,
      refused: `registration refused${why}`,
    }[change.state];
    say(text, { event: 'registration', ...change });
  });

  return () => {
    for (const [event, listener] of listeners) emitter.off(event, listener);
  };
}
