// `serve --relay`: a public peer joins two peers that cannot reach each other (both behind NATs).
// A downloader sends RELAY {name} to the relay port; the relay asks the index server for a callback
// to itself (so the holder connects out to the relay, which its NAT allows), then answers RELAY-READY
// and carries bytes both ways, nothing more: DOWNLOAD and the frames pass unchanged, and the
// downloader verifies every byte against the holder's FILE-END (and pieces), so a relay that
// tampered would be caught. Caps: transfers at once, and bytes a second shared by all of them.
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { TcpRequest } from '../generated/catalogue.js';
import type { RelayDeniedFrame, RelayReadyFrame } from '../generated/types.js';
import type { Logger } from '../log/index.js';
import { decodeTcpRequest, encodeLine } from '../protocol/index.js';
import { CallbackListener } from './callback-listener.js';
import { readFirstLine } from './first-line.js';
import { DEFAULT_RELAY_BYTES_PER_SECOND, DEFAULT_RELAY_TRANSFERS, GREETING_TIMEOUT_MS } from './limits.js';
import { byCallback, type AskCallback } from './open-connection.js';
import { ByteBudget } from './throttle.js';

export interface RelayOptions {
  /** The relay's own CALLBACK (its IndexClient): the holder connects back to the relay. */
  askCallback: AskCallback;
  logger: Logger;
  /** Interface to listen on (default every IPv4 one). */
  host?: string;
  /** Default 0: any free port; RETRIEVE lists it as the peer's relayPort. */
  port?: number;
  maxTransfers?: number;
  bytesPerSecond?: number;
}

export class Relay {
  private active = 0;
  private readonly sockets = new Set<Socket>();
  private readonly budget: ByteBudget;
  private readonly maxTransfers: number;

  private constructor(
    private readonly server: Server,
    private readonly holders: CallbackListener,
    private readonly options: RelayOptions,
  ) {
    this.maxTransfers = options.maxTransfers ?? DEFAULT_RELAY_TRANSFERS;
    this.budget = new ByteBudget(options.bytesPerSecond ?? DEFAULT_RELAY_BYTES_PER_SECOND);
    server.on('connection', (socket) => void this.serve(socket));
  }

  static async open(options: RelayOptions): Promise<Relay> {
    const host = options.host ?? '0.0.0.0';
    const holders = await CallbackListener.open(options.logger, host);
    const server = createServer({ pauseOnConnect: true, noDelay: true });
    server.listen({ host, port: options.port ?? 0 });
    await once(server, 'listening');
    return new Relay(server, holders, options);
  }

  /** The relayPort to register. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Transfers being carried now. */
  get transfers(): number {
    return this.active;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await Promise.all([new Promise<void>((resolve) => this.server.close(() => resolve())), this.holders.close()]);
  }

  private async serve(downloader: Socket): Promise<void> {
    const { logger } = this.options;
    this.track(downloader);
    let request: TcpRequest;
    try {
      request = decodeTcpRequest(await readFirstLine(downloader, GREETING_TIMEOUT_MS));
    } catch (error) {
      logger.warn('peer.relay.bad-request', { peer: downloader.remoteAddress, reason: (error as Error).message });
      return this.deny(downloader, null, `not a RELAY request: ${(error as Error).message}`);
    }
    if (request.type !== 'RELAY') return this.deny(downloader, request.rq, `${request.type} is not served on a relay port: send RELAY {name}`);
    if (this.active >= this.maxTransfers) return this.deny(downloader, request.rq, `this relay carries ${this.maxTransfers} transfers already (its cap); try later`);
    this.active++;
    let holder: Socket;
    try {
      holder = await byCallback({ name: request.name }, { askCallback: this.options.askCallback, listener: this.holders, logger }, undefined, '');
    } catch (error) {
      this.active--;
      return this.deny(downloader, request.rq, `cannot reach ${request.name}: ${(error as Error).message}`);
    }
    this.track(holder);
    const ready: RelayReadyFrame = { type: 'RELAY-READY', rq: request.rq, name: request.name };
    downloader.write(encodeLine(ready));
    logger.info('peer.relay.joined', { downloader: downloader.remoteAddress, holder: request.name });
    this.join(downloader, holder);
  }

  /** Carries bytes both ways until either side closes; then both go. */
  private join(a: Socket, b: Socket): void {
    let open = 2;
    const ended = () => {
      a.destroy();
      b.destroy();
      if (--open === 0) this.active--;
    };
    a.once('close', ended);
    b.once('close', ended);
    a.on('error', () => {});
    b.on('error', () => {});
    a.pipe(this.budget.stream()).pipe(b);
    b.pipe(this.budget.stream()).pipe(a);
  }

  private deny(socket: Socket, rq: number | null, reason: string): void {
    const denied: RelayDeniedFrame = { type: 'RELAY-DENIED', rq: rq ?? 0, reason };
    socket.on('error', () => {});
    socket.end(encodeLine(denied));
    socket.resume();
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }
}
