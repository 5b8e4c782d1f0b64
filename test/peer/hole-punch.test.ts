// Issue 14, hole punching on loopback: the parts a punch is made of. The punch itself (two NATs
// letting crossing SYNs in) needs real NATs and runs in test/nat/nat.test.ts; here, the connect loop
// that keeps trying from the same port, the holder's refusals, and why a failed punch says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { PassThrough } from 'node:stream';
import type { ConnectBackPush } from '../../src/generated/types.js';
import { createLogger, silentLogger } from '../../src/log/index.js';
import { ConnectBacks } from '../../src/reach/connect-back.js';
import { byHolePunch, freeTcpPort, simultaneousOpen } from '../../src/reach/hole-punch.js';
import { reachHolders } from '../../src/reach/open-connection.js';
import { CallbackListener } from '../../src/reach/callback-listener.js';
import { HolderFailure } from '../../src/transfer/index.js';

async function listenOn(port: number): Promise<Server> {
  const server = createServer((socket) => socket.end());
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

test('simultaneousOpen keeps connecting from the same local port after refusals, until the other side is there', async (t) => {
  const [target, localPort] = [await freeTcpPort(), await freeTcpPort()];
  let other: Server | undefined;
  t.after(() => other?.close());
  // Refused until the other side appears a few retries later.
  setTimeout(() => void listenOn(target).then((server) => (other = server)), 350);
  const socket = await simultaneousOpen({ ip: '127.0.0.1', port: target, localPort }, 5000);
  assert.equal(socket.localPort, localPort, 'every attempt binds the port the other side aims at');
  assert.equal(socket.remotePort, target);
  socket.destroy();
});

test('simultaneousOpen gives up at once when another socket holds its local port, and says why', async (t) => {
  const held = await listenOn(0);
  t.after(() => held.close());
  const heldPort = (held.address() as AddressInfo).port;
  await assert.rejects(simultaneousOpen({ ip: '127.0.0.1', port: await freeTcpPort(), localPort: heldPort }, 5000), /EADDRINUSE/);
});

test('simultaneousOpen rejects with the last refusal when nothing answers in time', async () => {
  await assert.rejects(simultaneousOpen({ ip: '127.0.0.1', port: await freeTcpPort(), localPort: await freeTcpPort() }, 300), /ECONNREFUSED/);
});

test('a holder refuses a punch from a privileged port, and says so', async () => {
  const sink = new PassThrough();
  let log = '';
  sink.setEncoding('utf8').on('data', (text: string) => (log += text));
  const logger = createLogger({ level: 'info', stream: sink, pretty: false });
  let served = 0;
  const backs = new ConnectBacks({ name: 'alice', serve: () => served++, logger });
  const push: ConnectBackPush = { type: 'CONNECT-BACK', rq: 1, from: 'bob', ip: '127.0.0.1', tcpPort: 80, nonce: 'd'.repeat(32), punch: true };
  backs.answer(push);
  await new Promise((resolve) => setImmediate(resolve));
  assert.match(log, /"event":"peer\.connect-back\.refused".*"reason":"a punch binds its local port, and 80 is a privileged one \(below 1024\)"/);
  assert.equal(served, 0);
});

test('a refused punch falls through to the relays, and the failure names both reasons', async (t) => {
  const listener = await CallbackListener.open(silentLogger, '127.0.0.1');
  t.after(() => listener.close());
  const asked: Array<{ punch?: boolean }> = [];
  const open = reachHolders({
    askCallback: async (_holder, _tcpPort, _nonce, ask = {}) => {
      asked.push(ask);
      throw new Error("cannot punch through to alice: alice's NAT rewrites source ports");
    },
    listener,
    logger: silentLogger,
    behindNat: () => true,
    relays: async () => [],
  });
  const failure = await open({ name: 'alice', ip: '192.0.2.5', tcpPort: 6001, behindNat: true }, { timeoutMs: 1000 }).catch((error: unknown) => error);
  assert.ok(failure instanceof HolderFailure);
  assert.deepEqual(asked, [{ punch: true }], 'both behind NATs: a punch, not a callback');
  assert.match(failure.message, /no hole punching: cannot punch through to alice: alice's NAT rewrites source ports; both alice and this peer are behind NATs, and no peer offers relaying/);
});

test('a punch the server answers without the holder\'s address is not attempted', async () => {
  const failure = await byHolePunch({ name: 'alice' }, { askCallback: async () => ({ type: 'CALLBACK-SENT', rq: 1, name: 'alice' }), logger: silentLogger }, undefined, '').catch((error: unknown) => error);
  assert.ok(failure instanceof HolderFailure);
  assert.match(failure.message, /the index server did not say where alice is seen/);
});
