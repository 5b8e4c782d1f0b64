// How a downloader reaches a holder: directly when it can, by callback when it cannot. A holder the
// index lists as behind a NAT is asked for a callback at once (connecting to its LAN address would
// only time out); any other holder is connected to, and asked for a callback when that fails. When
// both are behind NATs, a hole is punched (hole-punch.ts), and a relay carries what cannot be punched.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { CallbackSentReply } from '../generated/types.js';
import type { Logger } from '../log/index.js';
import { HolderFailure, openTcpConnection, type Holder, type OpenConnection } from '../transfer/index.js';
import { decodeTcpFrame, encodeLine } from '../protocol/index.js';
import { readFirstLine } from './first-line.js';
import { byHolePunch } from './hole-punch.js';
import { CALLBACK_TRIES, CALLBACK_WAIT_MS, GREETING_TIMEOUT_MS, NONCE_BYTES } from './limits.js';

/** What asks the index server for a callback or a punch (IndexClient.callback): resolves with CALLBACK-SENT. */
export type AskCallback = (holder: string, tcpPort: number, nonce: string, options?: { punch?: boolean }) => Promise<CallbackSentReply>;

/** Where connections back arrive (CallbackListener): its port, and the connection greeting with a nonce. */
export interface CallbackWaiter {
  readonly port: number;
  expect(nonce: string, timeoutMs: number, signal?: AbortSignal): { connection: Promise<Socket | undefined>; cancel(): void };
}

/** A public peer that relays (RETRIEVE lists its relayPort). */
export interface RelayContact {
  name: string;
  ip: string;
  relayPort: number;
}

export interface ReachOptions {
  askCallback: AskCallback;
  listener: CallbackWaiter;
  logger: Logger;
  callbackWaitMs?: number;
  /** True when the index server sees this downloader behind a NAT: a holder behind one cannot call back. */
  behindNat?: () => boolean;
  /** The relays to try when neither side can reach the other. */
  relays?: () => Promise<readonly RelayContact[]>;
}

/** An OpenConnection for downloadFile: direct, else by callback (or a punch), else through a relay. */
export function reachHolders(options: ReachOptions): OpenConnection {
  return async (holder, { timeoutMs, signal, reusedReadBuffer }) => {
    let before = '';
    if (!holder.behindNat) {
      try {
        return await openTcpConnection(holder, { timeoutMs, ...(reusedReadBuffer ? { reusedReadBuffer } : {}), ...(signal ? { signal } : {}) });
      } catch (error) {
        if (!(error instanceof HolderFailure)) throw error;
        options.logger.info('download.direct-failed', { holder: holder.name, reason: error.message });
        before = `${error.message}; `;
      }
    }
    // Both behind NATs: the holder's connection back could not get in either, but a punch can.
    const bothBehindNats = holder.behindNat && options.behindNat?.() === true;
    try {
      return await (bothBehindNats ? byHolePunch(holder, options, signal, before) : byCallback(holder, options, signal, before));
    } catch (error) {
      if (!(error instanceof HolderFailure) || !options.relays) throw error;
      options.logger.info(bothBehindNats ? 'download.punch-failed' : 'download.callback-failed', { holder: holder.name, reason: error.message });
      before = `${error.message}; `;
    }
    const why = bothBehindNats ? `both ${holder.name} and this peer are behind NATs` : `${holder.name} answers neither a connection nor a callback`;
    return byRelay(holder, options, timeoutMs, signal, `${before}${why}, and `);
  };
}

/** Through the first relay that joins us to the holder; rejects with a HolderFailure saying why none did. */
async function byRelay(holder: Holder, options: ReachOptions, connectTimeoutMs: number, signal: AbortSignal | undefined, before: string): Promise<Socket> {
  const relays = (await options.relays?.().catch(() => [])) ?? [];
  const why: string[] = [];
  for (const relay of relays.filter((r) => r.name !== holder.name)) {
    let socket: Socket | undefined;
    try {
      socket = await openTcpConnection({ name: relay.name, ip: relay.ip, tcpPort: relay.relayPort }, { timeoutMs: connectTimeoutMs, ...(signal ? { signal } : {}) });
      socket.write(encodeLine({ type: 'RELAY', rq: 1, name: holder.name }));
      // The relay asks for a callback (up to CALLBACK_TRIES waits) before it answers.
      const answer = decodeTcpFrame(await readFirstLine(socket, (options.callbackWaitMs ?? CALLBACK_WAIT_MS) * CALLBACK_TRIES + GREETING_TIMEOUT_MS));
      if (answer.type === 'RELAY-READY') {
        options.logger.info('download.relayed', { holder: holder.name, relay: relay.name });
        return socket;
      }
      why.push(`${relay.name}: ${answer.type === 'RELAY-DENIED' ? answer.reason : `answered ${answer.type}`}`);
    } catch (error) {
      why.push(`${relay.name}: ${(error as Error).message}`);
    }
    socket?.destroy();
  }
  const tried = why.length === 0 ? 'no peer offers relaying (serve --relay)' : `no relay joined us: ${why.join('; ')}`;
  throw new HolderFailure('CONNECT_FAILED', `${before}${tried}`);
}

/** CALLBACK, then the holder's connection back; asks again when none came (the push is a datagram). */
export async function byCallback(holder: Pick<Holder, 'name'>, options: Pick<ReachOptions, 'askCallback' | 'listener' | 'logger' | 'callbackWaitMs'>, signal: AbortSignal | undefined, before: string): Promise<Socket> {
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
