// Test plumbing for the index server: start one on 127.0.0.1 (or ::1) port 0 with an in-memory store,
// closed by the test that started it; and a raw UDP client that sends exact bytes and collects replies,
// for tests about the wire itself (the peer's own client lives in src/client).
import { randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { isIPv6 } from 'node:net';
import type { TestContext } from 'node:test';
import { decodeUdpReply } from '../../src/protocol/index.js';
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

/** A UDP socket for one test: send requests (objects or raw bytes), await the reply of an rq. */
export class RawClient {
  private readonly replies: Array<{ bytes: Buffer; reply: UdpReply | undefined }> = [];
  private waiters: Array<() => void> = [];

  private constructor(
    readonly socket: Socket,
    readonly server: { host: string; port: number },
  ) {
    socket.on('message', (bytes) => {
      let reply: UdpReply | undefined;
      try {
        reply = decodeUdpReply(bytes, 65_507);
      } catch {
        reply = undefined; // kept as bytes: the test asserting on it will say what was wrong
      }
      this.replies.push({ bytes, reply });
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** A client bound to an ephemeral port on `bindHost` (default: the server's loopback family). */
  static async open(server: { host: string; port: number }, t?: TestContext, bindHost?: string): Promise<RawClient> {
    const host = bindHost ?? (isIPv6(server.host) ? '::1' : '127.0.0.1');
    const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    socket.bind(0, host);
    await once(socket, 'listening');
    const client = new RawClient(socket, server);
    t?.after(() => client.close());
    return client;
  }

  get address(): { ip: string; port: number } {
    const a = this.socket.address();
    return { ip: a.address, port: a.port };
  }

  send(message: object | Buffer | string): void {
    const bytes = Buffer.isBuffer(message) ? message : Buffer.from(typeof message === 'string' ? message : JSON.stringify(message));
    this.socket.send(bytes, this.server.port, this.server.host);
  }

  /** Sends `message` and awaits the reply carrying its rq (resending the same bytes if none comes). */
  async request(message: { rq: number } & object, timeoutMs = 5000): Promise<UdpReply> {
    const { reply } = await this.exchange(message, timeoutMs);
    return reply;
  }

  /** Like request(), with the reply's exact bytes too. */
  async exchange(message: { rq: number } & object, timeoutMs = 5000): Promise<{ reply: UdpReply; bytes: Buffer }> {
    const bytes = Buffer.from(JSON.stringify(message));
    const deadline = Date.now() + timeoutMs;
    // Loopback does not lose datagrams unless a buffer overflows; a resend keeps a busy CI machine honest.
    for (let attempt = 0; ; attempt++) {
      this.send(bytes);
      const got = await this.waitFor((r) => r.reply?.rq === message.rq, Math.min(1000 * 2 ** attempt, deadline - Date.now()));
      if (got) return { reply: got.reply!, bytes: got.bytes };
      if (Date.now() >= deadline) throw new Error(`no reply to ${JSON.stringify(message).slice(0, 200)} within ${timeoutMs} ms`);
    }
  }

  /** Every datagram received so far (the raw bytes, and the decoded reply when it decodes). */
  received(): ReadonlyArray<{ bytes: Buffer; reply: UdpReply | undefined }> {
    return this.replies;
  }

  /** Resolves with the first received datagram matching `match` (already received or to come), or undefined at the timeout. */
  async waitFor(
    match: (r: { bytes: Buffer; reply: UdpReply | undefined }) => boolean,
    timeoutMs: number,
  ): Promise<{ bytes: Buffer; reply: UdpReply | undefined } | undefined> {
    const deadline = Date.now() + Math.max(0, timeoutMs);
    for (;;) {
      const found = this.replies.find(match);
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
