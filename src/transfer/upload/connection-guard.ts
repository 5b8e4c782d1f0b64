// The file service's defences, kept apart from what it serves: a cap on open connections, a deadline
// for each DOWNLOAD line (from connecting, or from the end of the previous ranged reply), the line
// length ceiling, and refusals, logged as counts when hostile clients cause them in bulk.
import type { Socket } from 'node:net';
import type { Logger } from '../../log/index.js';
import { encodeLine, LineSplitter, MAX_LINE_BYTES, type ProtocolError } from '../../protocol/index.js';
import { UploadError } from '../errors.js';
import { ABUSE_LOG_INTERVAL_MS, ERROR_LINGER_MS } from '../limits.js';

/** Refusals that hostile or broken clients cause in bulk: logged as counts, not one by one. */
const ABUSE: ReadonlySet<string> = new Set(['BAD_REQUEST', 'REQUEST_TIMEOUT', 'TOO_MANY_CONNECTIONS']);

/** The longest reason the schema allows in DOWNLOAD-ERROR. */
const MAX_REASON_CHARS = 600;

export interface Refusal {
  peer: string;
  rq: number | null;
  file?: string;
  error: UploadError;
}

export interface ConnectionGuardOptions {
  maxConnections: number;
  requestTimeoutMs: number;
  log: Logger;
  onRefused: (refusal: Refusal) => void;
}

export class ConnectionGuard {
  private readonly sockets = new Set<Socket>();
  private readonly abuse = new Map<string, number>();
  private abuseReport: NodeJS.Timeout | undefined;

  constructor(private readonly options: ConnectionGuardOptions) {}

  get openConnections(): number {
    return this.sockets.size;
  }

  /** Takes charge of a new connection; undefined (and refused) when too many are open. */
  admit(socket: Socket): GuardedConnection | undefined {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', (error) => this.options.log.debug('connection.error', { peer, error: error.message }));
    if (this.sockets.size > this.options.maxConnections) {
      const reason = `this peer has too many connections open (${this.options.maxConnections}), try later`;
      this.refuse(socket, peer, null, new UploadError('TOO_MANY_CONNECTIONS', reason));
      return undefined;
    }
    return new GuardedConnection(socket, peer, this);
  }

  /** Answers DOWNLOAD-ERROR for a request that will not be served, and says so. */
  refuse(socket: Socket, peer: string, rq: number | null, error: UploadError, file?: string): void {
    const fields = { peer, rq, file, code: error.code, reason: error.message, ...(error.cause ? { detail: String(error.cause) } : {}) };
    if (ABUSE.has(error.code)) {
      // A flood of these must not flood the log: each at debug, a count at warn once per interval.
      this.options.log.debug('download.refused', fields);
      this.abuse.set(error.code, (this.abuse.get(error.code) ?? 0) + 1);
      this.abuseReport ??= setTimeout(() => this.reportAbuse(), ABUSE_LOG_INTERVAL_MS).unref();
    } else {
      this.options.log.info('download.refused', fields);
    }
    this.options.onRefused({ peer, rq, ...(file === undefined ? {} : { file }), error });
    if (!socket.destroyed) this.sendError(socket, rq, error.message);
  }

  /**
   * Sends DOWNLOAD-ERROR and closes. Reading goes on (discarded) for a moment, so a client still
   * sending gets the error line instead of a reset that would throw it away.
   */
  sendError(socket: Socket, rq: number | null, reason: string): void {
    const clipped = [...reason].length > MAX_REASON_CHARS ? `${[...reason].slice(0, MAX_REASON_CHARS - 1).join('')}…` : reason;
    const message = { type: 'DOWNLOAD-ERROR' as const, rq, reason: clipped };
    if (this.options.log.enabled('debug')) this.options.log.debug('tcp.send', { peer: `${socket.remoteAddress}:${socket.remotePort}`, message });
    socket.setTimeout(0);
    socket.end(encodeLine(message));
    socket.on('data', () => {});
    socket.resume();
    const linger = setTimeout(() => socket.destroy(), ERROR_LINGER_MS);
    socket.once('close', () => clearTimeout(linger));
  }

  reportAbuse(): void {
    clearTimeout(this.abuseReport);
    this.abuseReport = undefined;
    if (this.abuse.size === 0) return;
    this.options.log.warn('download.refusals', { intervalMs: ABUSE_LOG_INTERVAL_MS, ...Object.fromEntries(this.abuse) });
    this.abuse.clear();
  }

  /** Drops every connection (uploads in progress end without FILE-END). */
  closeAll(): void {
    this.reportAbuse();
    for (const socket of this.sockets) socket.destroy();
  }

  get requestTimeoutMs(): number {
    return this.options.requestTimeoutMs;
  }
}

/** One admitted connection: hands out its DOWNLOAD lines one at a time, each under the deadline. */
export class GuardedConnection {
  private readonly splitter = new LineSplitter(MAX_LINE_BYTES);
  /** Lines that arrived together with an earlier one (a downloader asking for its next range early). */
  private readonly queued: Buffer[] = [];
  private requests = 0;

  constructor(
    readonly socket: Socket,
    readonly peer: string,
    private readonly guard: ConnectionGuard,
  ) {}

  /**
   * The next request line, or undefined when there is none to serve: the connection was refused
   * (garbage, an over-long line, the deadline) or the downloader ended it after a ranged reply.
   */
  nextRequest(): Promise<Buffer | undefined> {
    const first = this.requests++ === 0;
    const queued = this.queued.shift();
    if (queued) return Promise.resolve(queued);
    const { socket, peer, guard } = this;
    return new Promise((resolve) => {
      const finish = (line: Buffer | undefined, refusal?: UploadError) => {
        clearTimeout(deadline);
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.off('close', onClose);
        socket.pause();
        if (refusal) guard.refuse(socket, peer, null, refusal);
        resolve(line);
      };
      const deadline = setTimeout(() => {
        if (first) finish(undefined, new UploadError('REQUEST_TIMEOUT', `no complete DOWNLOAD line within ${guard.requestTimeoutMs} ms of connecting`));
        else {
          // An idle kept connection is not an error: the downloader simply asked for nothing more.
          finish(undefined);
          socket.end();
        }
      }, guard.requestTimeoutMs);
      const onData = (chunk: Buffer) => {
        let lines: Buffer[];
        try {
          lines = this.splitter.push(chunk);
        } catch (error) {
          finish(undefined, new UploadError('BAD_REQUEST', (error as ProtocolError).reason));
          return;
        }
        if (lines.length === 0) return;
        this.queued.push(...lines.slice(1));
        finish(lines[0]);
      };
      const onEnd = () => {
        if (first || this.splitter.buffered > 0) {
          finish(undefined, new UploadError('BAD_REQUEST', 'the connection ended before a complete DOWNLOAD line (a request ends with a newline)'));
        } else {
          finish(undefined);
          socket.end();
        }
      };
      const onClose = () => finish(undefined);
      socket.on('data', onData);
      socket.on('end', onEnd);
      socket.on('close', onClose);
      socket.resume();
    });
  }
}
