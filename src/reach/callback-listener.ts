// The downloader's side of a callback: a TCP listener that runs while a download does. A holder
// that was asked to (CALLBACK → CONNECT-BACK) connects here and greets with CONNECTED-BACK and the
// nonce of one waiting callback; that connection is handed to the download, which sends DOWNLOAD on
// it as if it had connected itself. Anything else that connects is dropped: a wrong first line, an
// unknown nonce, or no greeting in time.
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from '../log/index.js';
import { decodeTcpFrame, LineSplitter, MAX_LINE_BYTES } from '../protocol/index.js';
import { GREETING_TIMEOUT_MS } from './limits.js';

interface Waiting {
  resolve(socket: Socket): void;
}

export class CallbackListener {
  private readonly waiting = new Map<string, Waiting>();
  private readonly greeting = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly logger: Logger,
  ) {
    server.on('connection', (socket) => this.greet(socket));
  }

  /** Listens on `host` (every interface by default), on a free port. */
  static async open(logger: Logger, host = '0.0.0.0'): Promise<CallbackListener> {
    const server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true });
    server.listen({ host, port: 0 });
    await once(server, 'listening');
    return new CallbackListener(server, logger);
  }

  /** The TCP port a CALLBACK names. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /**
   * The connection that greets with `nonce`, once it has; undefined when none did within
   * `timeoutMs` (or `signal` aborted). Register before sending CALLBACK: the holder may be quick.
   */
  expect(nonce: string, timeoutMs: number, signal?: AbortSignal): { connection: Promise<Socket | undefined>; cancel(): void } {
    let cancel = () => {};
    const connection = new Promise<Socket | undefined>((resolve) => {
      const finish = (socket: Socket | undefined) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', cancel);
        this.waiting.delete(nonce);
        resolve(socket);
      };
      cancel = () => finish(undefined);
      const timer = setTimeout(cancel, timeoutMs);
      signal?.addEventListener('abort', cancel, { once: true });
      this.waiting.set(nonce, { resolve: finish });
    });
    return { connection, cancel: () => cancel() };
  }

  async close(): Promise<void> {
    for (const socket of this.greeting) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Reads the first line; hands the socket over for a waiting nonce, else drops it. */
  private greet(socket: Socket): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const splitter = new LineSplitter(MAX_LINE_BYTES);
    this.greeting.add(socket);
    const drop = (why: string) => {
      stop();
      this.logger.warn('peer.callback.dropped', { peer, why });
      socket.destroy();
    };
    const stop = () => {
      clearTimeout(timer);
      this.greeting.delete(socket);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('end', onEnd);
    };
    const timer = setTimeout(() => drop(`no CONNECTED-BACK within ${GREETING_TIMEOUT_MS} ms`), GREETING_TIMEOUT_MS);
    const onError = (error: Error) => drop(error.message);
    const onEnd = () => drop('closed before its CONNECTED-BACK line');
    const onData = (chunk: Buffer) => {
      let lines: Buffer[];
      try {
        lines = splitter.push(chunk);
      } catch (error) {
        return drop((error as Error).message);
      }
      if (lines.length === 0) return;
      let nonce: string;
      try {
        const frame = decodeTcpFrame(lines[0]!);
        if (frame.type !== 'CONNECTED-BACK') return drop(`the first line is ${frame.type}, not CONNECTED-BACK`);
        nonce = frame.nonce;
      } catch (error) {
        return drop((error as Error).message);
      }
      const waiting = this.waiting.get(nonce);
      if (!waiting) return drop('its nonce answers no callback of this download');
      // The holder waits for DOWNLOAD before it sends anything more: no bytes follow the greeting.
      if (lines.length > 1 || splitter.buffered > 0) return drop('sent more than its greeting before DOWNLOAD');
      stop();
      socket.pause();
      this.logger.info('peer.callback.connected', { peer });
      waiting.resolve(socket);
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.resume();
  }
}
