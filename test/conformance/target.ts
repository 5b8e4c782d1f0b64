// The server the conformance suite runs against: the one named by P2FS_CONFORMANCE_SERVER
// (`host:port` or `[v6]:port`, set by `npm run conformance -- --server …`), else a fresh in-process
// server for this test file. Several, comma-separated (servers of one registry): each test file
// talks to one of them, picked by its name. Names are random, so a live server with other data is
// fine; clients bind on loopback, so the server must be on this host.
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { UdpReply } from '../../src/generated/catalogue.js';
import { RawClient, startTestServer, uniqueName } from '../helpers/server.js';

export interface Target {
  host: string;
  port: number;
  /** The server's --max-datagram (P2FS_CONFORMANCE_MAX_DATAGRAM for a live server; 1200 by default). */
  maxDatagram: number;
}

let target: Promise<Target> | undefined;
let closeOwnServer: (() => Promise<void>) | undefined;
// Registered at load time, so it belongs to the file, not to whichever test first asks for the target.
after(() => closeOwnServer?.());

export function conformanceTarget(): Promise<Target> {
  target ??= (async () => {
    const named = process.env.P2FS_CONFORMANCE_SERVER;
    const maxDatagram = Number(process.env.P2FS_CONFORMANCE_MAX_DATAGRAM ?? 1200);
    if (named) {
      const servers = named.split(',');
      const file = basename(process.argv[1] ?? '');
      const one = servers[createHash('sha256').update(file).digest().readUInt32BE(0) % servers.length]!;
      const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(one);
      assert.ok(match, `P2FS_CONFORMANCE_SERVER must be host:port or [v6]:port (comma-separated for several), got ${named}`);
      return { host: match[1]!, port: Number(match[2]), maxDatagram };
    }
    const server = await startTestServer({ maxDatagram });
    closeOwnServer = () => server.close();
    return { ...server.target, maxDatagram };
  })();
  return target;
}

/** A fresh client socket, closed when the test ends, checking every reply against the schemas and the size limit. */
export async function client(t: TestContext): Promise<RawClient> {
  const raw = await openClient();
  t.after(() => raw.close());
  return raw;
}

/**
 * De-registers names (by token) when the test ends, through a socket of its own: test clients are
 * closed by hooks that may run first.
 */
export function deregisterAfter(t: TestContext, names: Iterable<readonly [string, string]> | (() => Iterable<readonly [string, string]>)): void {
  t.after(async () => {
    const c = await openClient();
    try {
      const pairs = [...(typeof names === 'function' ? names() : names)];
      for (let i = 0; i < pairs.length; i += 50) {
        await Promise.all(pairs.slice(i, i + 50).map(([name, token]) => c.request({ type: 'DE-REGISTER', rq: rq(), name, token }).catch(() => {})));
      }
    } finally {
      c.close();
    }
  });
}

async function openClient(): Promise<RawClient> {
  const server = await conformanceTarget();
  const raw = await RawClient.open(server);
  raw.maxReplyBytes = server.maxDatagram;
  return raw;
}

let nextRq = Math.floor(Math.random() * 1_000_000_000);
/** A request number not used before in this process (retransmission tests reuse one on purpose). */
export const rq = (): number => nextRq++;

export interface Peer {
  client: RawClient;
  name: string;
  token: string;
}

/** A client registered under a unique name at its own address (so address authorisation works). */
export async function registeredPeer(t: TestContext, prefix = 'peer', tcpPort = 6000): Promise<Peer> {
  const c = await openClient();
  const name = uniqueName(prefix);
  // De-registers (by token: the test may have moved the contact) before the socket closes.
  t.after(async () => {
    if (token) await c.request({ type: 'DE-REGISTER', rq: rq(), name, token }).catch(() => {});
    c.close();
  });
  let token = '';
  const reply = await c.request({ type: 'REGISTER', rq: rq(), name, ip: c.address.ip, udpPort: c.address.port, tcpPort });
  assert.equal(reply.type, 'REGISTERED', JSON.stringify(reply));
  token = (reply as { token: string }).token;
  return { client: c, name, token };
}

/** Asserts the reply is of `type` and returns it narrowed. */
export function expectType<T extends UdpReply['type']>(reply: UdpReply, type: T): Extract<UdpReply, { type: T }> {
  assert.equal(reply.type, type, `expected ${type}, got ${JSON.stringify(reply)}`);
  return reply as Extract<UdpReply, { type: T }>;
}

/** Asserts a refusal of `type` whose reason matches `pattern`. */
export function expectRefusal(reply: UdpReply, type: UdpReply['type'], pattern: RegExp): { type: string; rq: number | null; reason: string } {
  assert.equal(reply.type, type, `expected ${type}, got ${JSON.stringify(reply)}`);
  assert.match((reply as { reason: string }).reason, pattern);
  return reply as { type: string; rq: number | null; reason: string };
}
