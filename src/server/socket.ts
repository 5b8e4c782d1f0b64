// The UDP socket loop: bytes in → pipeline → bytes out. It holds no logic: one event loop multiplexes
// every client (the select-style design), and handlers that await the store never block the others.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
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

export async function bindUdp(host: string, port: number, log: Logger): Promise<Socket> {
  const v6 = isIPv6(host);
  // reuseAddr false: a second server on the same port must fail loudly, not split the traffic.
  // ipv6Only false: `::` serves IPv4 clients too (they appear as ::ffff:a.b.c.d).
  const socket = createSocket({ type: v6 ? 'udp6' : 'udp4', reuseAddr: false, ipv6Only: false, recvBufferSize: RECEIVE_BUFFER_BYTES });
  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error) => {
      socket.close();
      reject(new ServerError('BIND_FAILED', `cannot listen on UDP ${v6 ? `[${host}]` : host}:${port}: ${error.message}`, { cause: error }));
    };
    socket.once('error', failed);
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', failed);
      resolve();
    });
  });
  // Linux reports twice the size asked for (it counts its own bookkeeping).
  log.info('receive buffer', { asked: RECEIVE_BUFFER_BYTES, obtained: socket.getRecvBufferSize() });
  return socket;
}

export interface DatagramLoop {
  /** Stops handing new datagrams to the pipeline (the socket stays open to send what is in flight). */
  stopReceiving(): void;
}

export function serveDatagrams(socket: Socket, pipeline: DatagramPipeline, counters: Counters, log: Logger): DatagramLoop {
  // No send callback: a send with one costs a second trip through the event loop per reply (measured:
  // a third of the loop's time). Without one, libuv sends at once when it can, and a failed send is
  // reported as the socket's 'error' event below.
  const send = (to: RemoteInfo) => (reply: Buffer) => socket.send(reply, to.port, to.address);
  const onMessage = (bytes: Buffer, from: RemoteInfo) => {
    void pipeline.receive(bytes, { ip: sourceIp(from.address), port: from.port })?.then(send(from));
  };
  socket.on('message', onMessage);
  socket.on('error', (error) => {
    counters.sendFailures++;
    log.warn('socket error', { error });
  });
  return { stopReceiving: () => socket.off('message', onMessage) };
}

/** The kernel reports addresses canonically; a dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d. */
function sourceIp(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
