// The holder's side of a callback: on a CONNECT-BACK from its index server, connect out to the
// downloader, greet with CONNECTED-BACK (the nonce the downloader chose), and hand the connection to
// the file server, which serves the DOWNLOAD that arrives on it as if it had accepted it.
//
// The client listens to its own servers only (src/client), and the server names the requester by
// its datagram's source; on top of that the holder connects only to a unicast address, at most
// MAX_CONNECT_BACKS at once, once per nonce.
import { isIPv4 } from 'node:net';
import { connect, type Socket } from 'node:net';
import type { ConnectBackPush, ConnectedBackFrame } from '../generated/types.js';
import type { Logger } from '../log/index.js';
import { encodeLine } from '../protocol/index.js';
import { CONNECT_BACK_TIMEOUT_MS, MAX_CONNECT_BACKS, REMEMBERED_NONCES } from './limits.js';

export interface ConnectBackOptions {
  /** This peer's registered name, sent in CONNECTED-BACK. */
  name: string;
  /** Serves the connection once greeted (FileServer.adopt). */
  serve: (socket: Socket) => void;
  logger: Logger;
  connectTimeoutMs?: number;
}

export class ConnectBacks {
  private readonly nonces = new Set<string>();
  private underWay = 0;

  constructor(private readonly options: ConnectBackOptions) {}

  /** Connects out for one CONNECT-BACK, unless it is one too many, a repeat, or to no unicast host. */
  answer(push: ConnectBackPush): void {
    const { logger } = this.options;
    const target = `${push.ip}:${push.tcpPort}`;
    const refusal = this.refusal(push);
    if (refusal) {
      logger.warn('peer.connect-back.refused', { from: push.from, target, reason: refusal });
      return;
    }
    this.remember(push.nonce);
    this.underWay++;
    const socket = connect({ host: push.ip, port: push.tcpPort, noDelay: true, allowHalfOpen: true });
    const done = () => {
      clearTimeout(timer);
      socket.off('error', failed);
      this.underWay--;
    };
    const failed = (error: Error) => {
      done();
      socket.destroy();
      logger.warn('peer.connect-back.failed', { from: push.from, target, error: error.message });
    };
    const timer = setTimeout(() => failed(new Error(`no connection within ${this.options.connectTimeoutMs ?? CONNECT_BACK_TIMEOUT_MS} ms`)), this.options.connectTimeoutMs ?? CONNECT_BACK_TIMEOUT_MS);
    socket.once('error', failed);
    socket.once('connect', () => {
      done();
      const greeting: ConnectedBackFrame = { type: 'CONNECTED-BACK', rq: push.rq, name: this.options.name, nonce: push.nonce };
      socket.write(encodeLine(greeting));
      logger.info('peer.connect-back.connected', { from: push.from, target });
      this.options.serve(socket);
    });
  }

  private refusal(push: ConnectBackPush): string | undefined {
    if (this.underWay >= MAX_CONNECT_BACKS) return `${MAX_CONNECT_BACKS} connect-backs are under way already`;
    if (this.nonces.has(push.nonce)) return 'this nonce was answered already';
    if (!isUnicast(push.ip)) return `${push.ip} is not a unicast address`;
    return undefined;
  }

  private remember(nonce: string): void {
    if (this.nonces.size >= REMEMBERED_NONCES) this.nonces.delete(this.nonces.values().next().value!);
    this.nonces.add(nonce);
  }
}

/** Not unspecified, broadcast or multicast: an address one host answers for. */
function isUnicast(ip: string): boolean {
  if (isIPv4(ip)) {
    const first = Number(ip.split('.')[0]);
    return ip !== '0.0.0.0' && ip !== '255.255.255.255' && !(first >= 224 && first <= 239);
  }
  return ip !== '::' && !ip.toLowerCase().startsWith('ff');
}
