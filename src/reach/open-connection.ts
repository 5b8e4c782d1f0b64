// How a downloader reaches a holder: directly when it can, by callback when it cannot. A holder the
// index lists as behind a NAT is asked for a callback at once (connecting to its LAN address would
// only time out); any other holder is connected to, and asked for a callback when that fails.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { Logger } from '../log/index.js';
import { HolderFailure, type Holder, type OpenConnection } from '../transfer/index.js';
import type { CallbackListener } from './callback-listener.js';
import { CALLBACK_TRIES, CALLBACK_WAIT_MS, NONCE_BYTES } from './limits.js';

/** What asks the index server for a callback (IndexClient.callback). */
export type AskCallback = (holder: string, tcpPort: number, nonce: string) => Promise<void>;

export interface ReachOptions {
  askCallback: AskCallback;
  listener: CallbackListener;
  logger: Logger;
  callbackWaitMs?: number;
}

/** An OpenConnection for downloadFile: direct, else by callback. */
export function reachHolders(options: ReachOptions): OpenConnection {
  return async (holder, connectTimeoutMs, signal) => {
    if (!holder.behindNat) {
      try {
        return await connectDirectly(holder, connectTimeoutMs, signal);
      } catch (error) {
        if (!(error instanceof HolderFailure)) throw error;
        options.logger.info('download.direct-failed', { holder: holder.name, reason: error.message });
        return await byCallback(holder, options, signal, `${error.message}; `);
      }
    }
    return byCallback(holder, options, signal, '');
  };
}

/** A TCP connection to the holder's listed address; rejects with a HolderFailure. */
export function connectDirectly(holder: Holder, timeoutMs: number, signal?: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: holder.ip, port: holder.tcpPort, noDelay: true });
    const fail = (error: HolderFailure) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(error);
    };
    const onAbort = () => fail(new HolderFailure('CONNECT_FAILED', 'aborted while connecting'));
    const timer = setTimeout(() => fail(new HolderFailure('CONNECT_TIMEOUT', `no connection within ${timeoutMs} ms`)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (error) => fail(new HolderFailure('CONNECT_FAILED', `cannot connect: ${error.message}`)));
    socket.once('connect', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

/** CALLBACK, then the holder's connection back; asks again when none came (the push is a datagram). */
async function byCallback(holder: Holder, options: ReachOptions, signal: AbortSignal | undefined, before: string): Promise<Socket> {
  const waitMs = options.callbackWaitMs ?? CALLBACK_WAIT_MS;
  for (let attempt = 1; attempt <= CALLBACK_TRIES; attempt++) {
    const nonce = randomBytes(NONCE_BYTES).toString('hex');
    const expected = options.listener.expect(nonce, waitMs, signal);
    try {
      await options.askCallback(holder.name, options.listener.port, nonce);
    } catch (error) {
      expected.cancel();
      throw new HolderFailure('CONNECT_FAILED', `${before}callback refused: ${(error as Error).message}`);
    }
    const socket = await expected.connection;
    if (socket) return socket;
    if (signal?.aborted) break;
    options.logger.info('download.callback-unanswered', { holder: holder.name, attempt, waitMs });
  }
  throw new HolderFailure('CONNECT_TIMEOUT', `${before}asked ${CALLBACK_TRIES} times for a callback, and ${holder.name} never connected back (${waitMs} ms each)`);
}
