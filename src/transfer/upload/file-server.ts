// The peer's file service: listens for TCP connections and serves each admitted one request by
// request. The guard (caps, deadlines, refusals) and the upload service (what is served, and how)
// are separate; this file only joins them to a listening socket. `adopt` serves a connection some
// other part of the peer opened (a NAT traversal helper's, for one), under the same rules.
import { stat } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { DownloadRequest } from '../../generated/types.js';
import { silentLogger, type Logger } from '../../log/index.js';
import { decodeTcpRequest, ProtocolError } from '../../protocol/index.js';
import { UploadError } from '../errors.js';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_UPLOADS, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_UPLOAD_IDLE_TIMEOUT_MS } from '../limits.js';
import { ConnectionGuard, type GuardedConnection } from './connection-guard.js';
import type { ShareCatalog } from './open-shared-file.js';
import { UploadService, type UploadEvent, type UploadInfo } from './upload-service.js';

export type { ShareCatalog, SharedFile } from './open-shared-file.js';
export type { UploadEvent, UploadInfo } from './upload-service.js';

export interface FileServerOptions {
  /** Interface to listen on; default all interfaces. */
  host?: string;
  /** Default 0: any free port (read it from `address`). */
  port?: number;
  catalog: ShareCatalog;
  /** The share folder: a file is served only if its real path is directly inside it. */
  shareDir: string;
  /** Concurrent uploads; past it a DOWNLOAD gets "busy, try later". Default DEFAULT_MAX_UPLOADS. */
  maxUploads?: number;
  /** Open connections, idle ones included. Default DEFAULT_MAX_CONNECTIONS. */
  maxConnections?: number;
  /** Deadline for the whole DOWNLOAD line, from connecting. Default DEFAULT_REQUEST_TIMEOUT_MS. */
  requestTimeoutMs?: number;
  /** An upload whose downloader reads nothing for this long is dropped. Default DEFAULT_UPLOAD_IDLE_TIMEOUT_MS. */
  uploadIdleTimeoutMs?: number;
  logger?: Logger;
  /** Upload life cycle, for progress displays: started, progress (throttled), finished, failed, refused. */
  onUpload?: (event: UploadEvent) => void;
}

export interface FileServer {
  readonly address: { host: string; port: number };
  activeUploads(): number;
  /** Snapshots of the uploads in progress. */
  uploads(): UploadInfo[];
  openConnections(): number;
  /** Serves a connection opened elsewhere (already connected), as if it had been accepted. */
  adopt(socket: Socket): void;
  /** Stops listening and drops every connection (uploads in progress end without FILE-END). */
  close(): Promise<void>;
}

export async function startFileServer(options: FileServerOptions): Promise<FileServer> {
  const maxUploads = options.maxUploads ?? DEFAULT_MAX_UPLOADS;
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const uploadIdleTimeoutMs = options.uploadIdleTimeoutMs ?? DEFAULT_UPLOAD_IDLE_TIMEOUT_MS;
  for (const [name, value] of Object.entries({ maxUploads, maxConnections, requestTimeoutMs, uploadIdleTimeoutMs })) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  if (!(await stat(options.shareDir).catch(() => undefined))?.isDirectory()) {
    throw new Error(`shareDir ${options.shareDir} is not a folder this peer can read`);
  }
  const log = (options.logger ?? silentLogger).child({ component: 'file-server' });
  const emit = options.onUpload ?? (() => {});
  const guard = new ConnectionGuard({ maxConnections, requestTimeoutMs, log, onRefused: (refusal) => emit({ kind: 'refused', ...refusal }) });
  const service = new UploadService({
    catalog: options.catalog, shareDir: options.shareDir, maxUploads, uploadIdleTimeoutMs, log, emit,
    refuse: (socket, peer, rq, error, file) => guard.refuse(socket, peer, rq, error, file),
    sendError: (socket, rq, reason) => guard.sendError(socket, rq, reason),
  });

  function serve(socket: Socket): void {
    const connection = guard.admit(socket);
    if (!connection) return;
    serveRequests(connection).catch((error: unknown) => {
      log.error('upload.crashed', { peer: connection.peer, error });
      socket.destroy();
    });
  }

  async function serveRequests(connection: GuardedConnection): Promise<void> {
    for (let line = await connection.nextRequest(); line; line = await connection.nextRequest()) {
      let request: DownloadRequest;
      try {
        const decoded = decodeTcpRequest(line);
        // RELAY goes to a relay's own port (src/reach/relay.ts), never to a file server.
        if (decoded.type !== 'DOWNLOAD') throw new ProtocolError('INVALID', `${decoded.type} is not served here: send it to a relay's relayPort`, { rq: decoded.rq });
        request = decoded;
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        guard.refuse(connection.socket, connection.peer, error.rq, new UploadError('BAD_REQUEST', error.reason));
        return;
      }
      if ((await service.serveDownload(request, connection.socket)) === 'close') return;
    }
  }

  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, serve);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port ?? 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => log.error('server.error', { error }));
  const bound = server.address() as AddressInfo;
  log.info('listening', { host: bound.address, port: bound.port, shareDir: options.shareDir, maxUploads, maxConnections });

  return {
    address: { host: bound.address, port: bound.port },
    activeUploads: () => service.active,
    uploads: () => service.uploads(),
    openConnections: () => guard.openConnections,
    adopt: (socket) => {
      socket.setNoDelay(true);
      serve(socket);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        guard.closeAll();
      }),
  };
}
