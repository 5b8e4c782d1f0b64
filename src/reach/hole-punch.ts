// Hole punching for two peers behind NATs: a TCP simultaneous open, coordinated through the index
// server. The downloader picks a free local port p and sends CALLBACK with `punch`; the server pushes
// CONNECT-BACK (with `punch`) to the holder and tells the downloader where the holder is seen. Then
// both connect at once, each from its own port p to the other's public address at port p. Whichever
// SYN leaves its NAT first is dropped at the other NAT, but it leaves a mapping behind that lets the
// other side's SYN in: the two SYNs cross, and TCP joins them into one connection. This needs NATs
// that keep a connection's source port; the server refuses a punch where it sees one that does not.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { HolderFailure, type Holder } from '../transfer/index.js';
import { decodeTcpFrame } from '../protocol/index.js';
import { readFirstLine } from './first-line.js';
import { GREETING_TIMEOUT_MS, NONCE_BYTES, PUNCH_RETRY_MS, PUNCH_WAIT_MS } from './limits.js';
import type { ReachOptions } from './open-connection.js';

export interface PunchTarget {
  ip: string;
  port: number;
  /** The local port to connect from: the port the other side aims at. */
  localPort: number;
}

/**
 * Connects from `localPort` to ip:port, again after each refusal (a NAT that answers an unexpected
 * SYN with a reset, or a SYN that arrived before the other side's went out), until `timeoutMs`.
 * Rejects with why the last attempt failed.
 */
export async function simultaneousOpen(target: PunchTarget, timeoutMs: number, signal?: AbortSignal): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  let lastError = `nothing answered within ${timeoutMs} ms`;
  while (Date.now() < deadline && !signal?.aborted) {
    const socket = connect({ host: target.ip, port: target.port, localPort: target.localPort, noDelay: true, allowHalfOpen: true });
    const outcome = await connectedWithin(socket, deadline - Date.now(), signal);
    if (outcome === 'connected') return socket;
    socket.destroy();
    if (outcome === 'timeout') break;
    lastError = outcome.message;
    // The local port is this punch's identity: another process holding it is not going to let go.
    if ((outcome as NodeJS.ErrnoException).code === 'EADDRINUSE') break;
    await new Promise((resolve) => setTimeout(resolve, PUNCH_RETRY_MS));
  }
  throw new Error(signal?.aborted ? 'aborted' : lastError);
}

/** 'connected', 'timeout' (or aborted), or the error that ended the attempt. */
function connectedWithin(socket: Socket, timeoutMs: number, signal?: AbortSignal): Promise<'connected' | 'timeout' | Error> {
  return new Promise((resolve) => {
    const settle = (outcome: 'connected' | 'timeout' | Error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      resolve(outcome);
    };
    const onConnect = () => settle('connected');
    const onError = (error: Error) => settle(error);
    const onAbort = () => settle('timeout');
    const timer = setTimeout(onAbort, Math.max(0, timeoutMs));
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', onConnect);
    socket.once('error', onError);
  });
}

/** A TCP port nothing on this host uses right now (the kernel's choice), for the punch to bind. */
export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  server.listen(0);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The downloader's side: CALLBACK with `punch`, then the simultaneous open towards where the server
 * sees the holder, then the holder's CONNECTED-BACK with this punch's nonce. Rejects with a
 * HolderFailure saying why (the caller goes on to a relay).
 */
export async function byHolePunch(holder: Pick<Holder, 'name'>, options: Pick<ReachOptions, 'askCallback' | 'logger'>, signal: AbortSignal | undefined, before: string): Promise<Socket> {
  const localPort = await freeTcpPort();
  const nonce = randomBytes(NONCE_BYTES).toString('hex');
  let holderIp: string | undefined;
  try {
    ({ ip: holderIp } = await options.askCallback(holder.name, localPort, nonce, { punch: true }));
  } catch (error) {
    throw new HolderFailure('CONNECT_FAILED', `${before}no hole punching: ${(error as Error).message}`);
  }
  if (holderIp === undefined) throw new HolderFailure('CONNECT_FAILED', `${before}no hole punching: the index server did not say where ${holder.name} is seen`);
  const target = `${holderIp}:${localPort}`;
  let socket: Socket;
  try {
    socket = await simultaneousOpen({ ip: holderIp, port: localPort, localPort }, PUNCH_WAIT_MS, signal);
  } catch (error) {
    throw new HolderFailure('CONNECT_TIMEOUT', `${before}no hole punched to ${holder.name} at ${target}: ${(error as Error).message}`);
  }
  try {
    const greeting = decodeTcpFrame(await readFirstLine(socket, GREETING_TIMEOUT_MS));
    if (greeting.type !== 'CONNECTED-BACK' || greeting.nonce !== nonce) throw new Error(`it greeted with ${greeting.type === 'CONNECTED-BACK' ? 'another nonce' : greeting.type}, not this punch's CONNECTED-BACK`);
  } catch (error) {
    socket.destroy();
    throw new HolderFailure('CONNECT_FAILED', `${before}the punched connection to ${target} is not ${holder.name}'s: ${(error as Error).message}`);
  }
  options.logger.info('download.punched', { holder: holder.name, target });
  return socket;
}
