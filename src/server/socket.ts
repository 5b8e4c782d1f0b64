// The UDP socket loop: bytes in → pipeline → bytes out. It holds no logic: one event loop multiplexes
// every client (the select-style design), and handlers that await the store never block the others.
import { createSocket, type RemoteInfo, type Socket, type SocketOptions } from 'node:dgram';
import { lookup } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import type { Logger } from '../log/index.js';
import type { Counters } from './counters.js';
import { ServerError } from './errors.js';
import type { DatagramPipeline } from './pipeline.js';

/**
 * Receive buffer asked of the kernel. Linux's 208 KiB default overflows under 256 requests in flight
 * (each queued datagram costs ~2 KB of kernel memory, not its payload size); 4 MiB holds ~2,000.
 * The kernel caps it at net.core.rmem_max (4 MiB here; 208 KiB on many distributions — raise it with
 * sysctl for heavy load); the size actually obtained is logged at start.
 */
export const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * `shared`: a worker of --workers N: the cluster's primary binds the port once and every worker
 * receives on that one socket. Otherwise the port is this process's alone.
 */
export async function bindUdp(host: string, port: number, log: Logger, shared = false): Promise<Socket> {
  const v6 = isIPv6(host);
  // reuseAddr false: a second server on the same port must fail loudly, not split the traffic.
  // ipv6Only false: `::` serves IPv4 clients too (they appear as ::ffff:a.b.c.d).
  const socket = createSocket({ type: v6 ? 'udp6' : 'udp4', reuseAddr: false, ipv6Only: false, recvBufferSize: RECEIVE_BUFFER_BYTES, lookup: literalsAtOnce });
  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error) => {
      socket.close();
      reject(new ServerError('BIND_FAILED', `cannot listen on UDP ${v6 ? `[${host}]` : host}:${port}: ${error.message}`, { cause: error }));
    };
    socket.once('error', failed);
    socket.bind({ address: host, port, exclusive: !shared }, () => {
      socket.off('error', failed);
      resolve();
    });
  });
  // Linux reports twice the size asked for (it counts its own bookkeeping).
  log.info('receive buffer', { asked: RECEIVE_BUFFER_BYTES, obtained: socket.getRecvBufferSize() });
  return socket;
}

/**
 * Replies go back to the address their request came from, always an IP literal. dns.lookup answers a
 * literal only on the next tick: a second trip through the loop for every reply. Names (a --host of
 * `localhost`) still go to the resolver.
 */
const literalsAtOnce: SocketOptions['lookup'] = (hostname, options, callback) => {
  const literal = isIP(hostname);
  if (literal) callback(null, hostname, literal);
  else lookup(hostname, options, callback);
};

export interface DatagramLoop {
  /** Stops handing new datagrams to the pipeline (the socket stays open to send what is in flight). */
  stopReceiving(): void;
}

export function serveDatagrams(socket: Socket, pipeline: DatagramPipeline, counters: Counters, log: Logger): DatagramLoop {
  const outbox = new Outbox(socket);
  const onMessage = (bytes: Buffer, from: RemoteInfo) => {
    const reply = pipeline.receive(bytes, { ip: sourceIp(from.address), port: from.port });
    if (reply instanceof Promise) void reply.then((ready) => outbox.post(ready, from.port, from.address));
    else if (reply) outbox.post(reply, from.port, from.address);
  };
  socket.on('message', onMessage);
  socket.on('error', (error) => {
    counters.sendFailures++;
    log.warn('socket error', { error });
  });
  return { stopReceiving: () => socket.off('message', onMessage) };
}

/**
 * Replies leave together once the loop has handled every datagram that was waiting (libuv reads up to
 * 32 per wake-up). Sent one by one between requests, each reply woke its sleeping client anew (a
 * cross-core wake-up, costly in a VM): measured on loopback with 64 requests in flight, that was a
 * third of the server's time. No send callback either: one costs a second trip through the loop per
 * reply. Without one, libuv sends at once when it can, and a failed send is reported as the socket's
 * 'error' event.
 */
class Outbox {
  private readonly replies: Buffer[] = [];
  private readonly ports: number[] = [];
  private readonly addresses: string[] = [];
  private readonly flush = () => {
    const { replies, ports, addresses } = this;
    for (let i = 0; i < replies.length; i++) this.socket.send(replies[i]!, ports[i], addresses[i]);
    replies.length = ports.length = addresses.length = 0;
  };

  constructor(private readonly socket: Socket) {}

  post(reply: Buffer, port: number, address: string): void {
    if (this.replies.length === 0) setImmediate(this.flush);
    this.replies.push(reply);
    this.ports.push(port);
    this.addresses.push(address);
  }
}

/** The kernel reports addresses canonically; a dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d. */
function sourceIp(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
