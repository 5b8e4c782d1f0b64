// The peer's web page: `startWebUi(peer)` serves a local page and JSON API for a running Peer,
// the same Peer the command line drives. Binds 127.0.0.1 unless told otherwise.
import { mkdir } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import { resolve } from 'node:path';
import type { MessageSeen } from '../client/index.js';
import { silentLogger, type Logger } from '../log/index.js';
import type { Peer } from '../peer/peer.js';
import { DEFAULT_DOWNLOAD_FOLDER } from '../peer/places.js';
import { filesView } from './api/files.js';
import { statusView } from './api/status.js';
import { EventHub } from './events.js';
import { newSessionToken } from './security.js';
import { createUiServer } from './http-server.js';
import { DownloadControl } from './download-control.js';
import { Transfers } from './transfers.js';

/** Files added from the page are capped at this size unless the caller says otherwise. */
export const DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024;

/** Status reaches the page at most this often (uploads report progress continuously). */
const STATUS_INTERVAL_MS = 250;

export interface WebUiOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1: only this machine can open the page. */
  host?: string;
  /** Where downloads from the page go. Default ./downloads, as for get and the shell (DEFAULT_DOWNLOAD_FOLDER). */
  downloadDir?: string;
  maxUploadBytes?: number;
  logger?: Logger;
}

export interface WebUi {
  /** The page's address, e.g. http://127.0.0.1:8080/ */
  readonly url: string;
  readonly address: { host: string; port: number };
  /** The session token the page uses (API clients send it as the x-p2fs-token header). */
  readonly token: string;
  readonly downloadDir: string;
  close(): Promise<void>;
}

export async function startWebUi(peer: Peer, options: WebUiOptions = {}): Promise<WebUi> {
  const host = options.host ?? '127.0.0.1';
  const logger = (options.logger ?? silentLogger).child({ component: 'ui' });
  const downloadDir = resolve(options.downloadDir ?? DEFAULT_DOWNLOAD_FOLDER);
  await mkdir(downloadDir, { recursive: true });
  const hub = new EventHub();
  const transfers = new Transfers(peer, hub);
  const downloads = new DownloadControl(peer, transfers, downloadDir);
  const ctx = { peer, downloadDir, maxUploadBytes: options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES, downloads, hub, transfers, logger };
  const token = newSessionToken();
  let port = 0;
  const server = createUiServer(ctx, token, () => port);

  let statusTimer: NodeJS.Timeout | undefined;
  const statusSoon = () => {
    statusTimer ??= setTimeout(() => {
      statusTimer = undefined;
      let status: ReturnType<typeof statusView>;
      try {
        status = statusView(peer, downloadDir);
      } catch {
        return; // the peer has stopped (its sockets are closed): nothing to report
      }
      hub.broadcast('status', status);
    }, STATUS_INTERVAL_MS);
    statusTimer.unref();
  };
  const listeners = {
    registration: (change: unknown) => {
      hub.broadcast('registration', change);
      statusSoon();
    },
    share: (change: unknown) => {
      hub.broadcast('share', { change, files: filesView(peer) });
      statusSoon();
    },
    upload: statusSoon,
    download: statusSoon,
    // Every message to and from the index server, as --verbose shows them (never the token).
    message: (seen: MessageSeen) => hub.broadcast('message', {
      direction: seen.direction, type: seen.message.type, rq: seen.message.rq, server: seen.server,
      ...(seen.attempt && seen.attempt > 1 ? { attempt: seen.attempt } : {}),
      ...('reason' in seen.message ? { reason: seen.message.reason } : {}),
      ...(seen.ignored ? { ignored: seen.ignored } : {}),
    }),
  };
  for (const [event, listener] of Object.entries(listeners)) peer.on(event as 'share', listener as () => void);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as { port: number }).port;
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const url = `http://${isIPv6(shown) ? `[${shown}]` : shown}:${port}/`;
  logger.info('ui.listening', { url });

  return {
    url, address: { host, port }, token, downloadDir,
    async close() {
      clearTimeout(statusTimer);
      for (const [event, listener] of Object.entries(listeners)) peer.off(event as 'share', listener as () => void);
      transfers.close();
      hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
