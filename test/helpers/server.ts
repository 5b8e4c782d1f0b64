// Test plumbing for the index server: start one on 127.0.0.1 (or ::1) port 0 with an in-memory store,
// closed by the test that started it; and a raw UDP client that sends exact bytes and collects replies,
// for tests about the wire itself (the peer's own client lives in src/client).
import { randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { isIPv6 } from 'node:net';
import type { TestContext } from 'node:test';
import { decodeUdpReply, MAX_UDP_PAYLOAD } from '../../src/protocol/index.js';
import type { UdpReply } from '../../src/generated/catalogue.js';
import { startIndexServer, type IndexServer, type IndexServerOptions } from '../../src/server/index.js';

export interface TestServerOptions extends IndexServerOptions {
  /** Closes the server when this test ends. */
  t?: TestContext;
}

export interface TestServer extends IndexServer {
  /** `127.0.0.1:PORT` or `[::1]:PORT`. */
  readonly target: { host: string; port: number };
  /** The memory:// URL (or whatever store was given): start another server on it to test a restart. */
  readonly storeUrl: string | undefined;
}

/**
 * An index server on 127.0.0.1 port 0 with a fresh memory:// store and no rate limit (every local
 * test client shares 127.0.0.1), unless `options` say otherwise.
 */
export async function startTestServer(first?: TestContext | TestServerOptions, more: TestServerOptions = {}): Promise<TestServer> {
  const options: TestServerOptions = isTestContext(first) ? { ...more, t: first } : { ...first, ...more };
  const { t, ...serverOptions } = options;
  const store = serverOptions.store ?? `memory://test-server-${randomUUID()}`;
  const server = await startIndexServer({
    host: '127.0.0.1',
    port: 0,
    rateLimit: { perSecond: 0, burst: 0 },
    expireAfterMs: 0,
    ...serverOptions,
    store,
  });
  t?.after(() => server.close());
  return Object.assign(server, {
    target: { host: server.address.host, port: server.address.port },
    storeUrl: typeof store === 'string' ? store : undefined,
  });
}

const isTestContext = (value: unknown): value is TestContext =>
  typeof value === 'object' && value !== null && typeof (value as TestContext).after === 'function' && typeof (value as TestContext).test === 'function';

/** A request as a test writes it: any fields (tests send invalid ones on purpose), with an rq to match the reply. */
export type WireRequest = { rq: number; [field: string]: unknown };

/** One datagram a RawClient received: its bytes, the reply when it is a valid one, else why not. */
export interface Received {
  bytes: Buffer;
  reply: UdpReply | undefined;
  /** The rq it carries, read even when the reply is invalid (so a bad reply fails its request at once). */
  rq: unknown;
  invalid: string | undefined;
}

/**
 * A UDP socket for one test: sends requests (objects or raw bytes) and awaits the reply of an rq.
 * Every datagram received is decoded with the generated reply validators, and checked against
 * `maxReplyBytes`: a request whose reply breaks the schema or the size limit fails.
 */
export class RawClient {
  private readonly inbox: Received[] = [];
  private waiters: Array<() => void> = [];
  maxReplyBytes = 1200;

  private constructor(
    readonly socket: Socket,
    readonly server: { host: string; port: number },
  ) {
    socket.on('message', (bytes) => {
      let reply: UdpReply | undefined;
      let invalid: string | undefined;
      let rq: unknown;
      try {
        reply = decodeUdpReply(bytes, MAX_UDP_PAYLOAD);
        rq = reply.rq;
      } catch (error) {
        invalid = (error as Error).message;
        try {
          rq = JSON.parse(bytes.toString('utf8'))?.rq;
        } catch {
          rq = undefined;
        }
      }
      this.inbox.push({ bytes, reply, rq, invalid });
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** A client bound to an ephemeral port on `bindHost` (default: loopback of the server's family). */
  static async open(server: { host: string; port: number }, t?: TestContext, bindHost?: string): Promise<RawClient> {
    const host = bindHost ?? (isIPv6(server.host) ? '::1' : '127.0.0.1');
    const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    socket.bind(0, host);
    await once(socket, 'listening');
    const client = new RawClient(socket, server);
    t?.after(() => client.close());
    return client;
  }

  /** The address the server sees this client at (what it registers as ip and udpPort). */
  get address(): { ip: string; port: number } {
    const a = this.socket.address();
    return { ip: a.address, port: a.port };
  }

  send(message: object | Buffer | string): void {
    const bytes = Buffer.isBuffer(message) ? message : Buffer.from(typeof message === 'string' ? message : JSON.stringify(message));
    this.socket.send(bytes, this.server.port, this.server.host);
  }

  /** Sends `message` and awaits the reply carrying its rq (resending the same bytes if none comes). */
  async request(message: WireRequest, timeoutMs = 10_000): Promise<UdpReply> {
    return (await this.exchange(message, timeoutMs)).reply;
  }

  /** Like request(), with the reply's exact bytes too. */
  async exchange(message: WireRequest, timeoutMs = 10_000): Promise<{ reply: UdpReply; bytes: Buffer }> {
    const bytes = Buffer.from(JSON.stringify(message));
    const deadline = Date.now() + timeoutMs;
    // Loopback loses nothing unless a buffer overflows; resending keeps a busy CI machine honest.
    for (let attempt = 0; ; attempt++) {
      const seen = this.inbox.length;
      this.send(bytes);
      const got = await this.waitFor((r, i) => i >= seen && r.rq === message.rq, Math.min(1000 * 2 ** attempt, deadline - Date.now()));
      if (got) {
        if (!got.reply) throw new Error(`invalid reply ${got.bytes.toString('utf8').slice(0, 300)}: ${got.invalid}`);
        if (got.bytes.length > this.maxReplyBytes) throw new Error(`reply of ${got.bytes.length} bytes is over ${this.maxReplyBytes}`);
        return { reply: got.reply, bytes: got.bytes };
      }
      if (Date.now() >= deadline) throw new Error(`no reply to ${JSON.stringify(message).slice(0, 200)} within ${timeoutMs} ms`);
    }
  }

  /** Every datagram received so far. */
  received(): readonly Received[] {
    return this.inbox;
  }

  /** The first received datagram matching `match` (already received or to come), or undefined at the timeout. */
  async waitFor(match: (r: Received, index: number) => boolean, timeoutMs: number): Promise<Received | undefined> {
    const deadline = Date.now() + Math.max(0, timeoutMs);
    for (;;) {
      const found = this.inbox.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

/** A peer name no other test (or live server user) will pick. */
export const uniqueName = (prefix = 'p'): string => `${prefix}-${randomUUID().slice(0, 13)}`;
