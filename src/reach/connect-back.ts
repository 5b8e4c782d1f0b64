// The holder's side of a callback: on a CONNECT-BACK from its index server, connect out to the
// downloader, greet with CONNECTED-BACK (the nonce the downloader chose), and hand the connection to
// the file server, which serves the DOWNLOAD that arrives on it as if it had accepted it. A CONNECT-BACK
// with `punch` connects from the port the downloader punches from (hole-punch.ts).
//
// The client listens to its own servers only (src/client), and the server names the requester by
// its datagram's source; on top of that the holder connects only to a unicast address, at most
// MAX_CONNECT_BACKS at once, once per nonce.
import { connect, isIPv4, type Socket } from 'node:net';
import type { ConnectBackPush, ConnectedBackFrame } from '../generated/types.js';
import type { Logger } from '../log/index.js';
import { encodeLine } from '../protocol/index.js';
import { simultaneousOpen } from './hole-punch.js';
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
    const timeoutMs = this.options.connectTimeoutMs ?? CONNECT_BACK_TIMEOUT_MS;
    // A punch connects from the port the downloader aims at, at the same time as it connects here.
    const connected = push.punch
      ? simultaneousOpen({ ip: push.ip, port: push.tcpPort, localPort: push.tcpPort }, timeoutMs)
      : connectOnce(push.ip, push.tcpPort, timeoutMs);
    connected.then(
      (socket) => {
        this.underWay--;
        const greeting: ConnectedBackFrame = { type: 'CONNECTED-BACK', rq: push.rq, name: this.options.name, nonce: push.nonce };
        socket.write(encodeLine(greeting));
        logger.info('peer.connect-back.connected', { from: push.from, target, ...(push.punch ? { punch: true } : {}) });
        this.options.serve(socket);
      },
      (error: Error) => {
        this.underWay--;
        logger.warn('peer.connect-back.failed', { from: push.from, target, error: error.message });
      },
    );
  }

  private refusal(push: ConnectBackPush): string | undefined {
    if (this.underWay >= MAX_CONNECT_BACKS) return `${MAX_CONNECT_BACKS} connect-backs are under way already`;
    if (this.nonces.has(push.nonce)) return 'this nonce was answered already';
    if (!isUnicast(push.ip)) return `${push.ip} is not a unicast address`;
    if (push.punch && push.tcpPort < FIRST_UNPRIVILEGED_PORT) return `a punch binds its local port, and ${push.tcpPort} is a privileged one (below ${FIRST_UNPRIVILEGED_PORT})`;
    return undefined;
  }

  private remember(nonce: string): void {
    if (this.nonces.size >= REMEMBERED_NONCES) this.nonces.delete(this.nonces.values().next().value!);
    this.nonces.add(nonce);
  }
}

/** Ports below this belong to system services; no downloader binds one for a punch. */
const FIRST_UNPRIVILEGED_PORT = 1024;

/** One plain connect, or why not within `timeoutMs`. */
function connectOnce(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true, allowHalfOpen: true });
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

/** Not unspecified, broadcast or multicast: an address one host answers for. */
function isUnicast(ip: string): boolean {
  if (isIPv4(ip)) {
    const first = Number(ip.split('.')[0]);
    return ip !== '0.0.0.0' && ip !== '255.255.255.255' && !(first >= 224 && first <= 239);
  }
  return ip !== '::' && !ip.toLowerCase().startsWith('ff');
}
