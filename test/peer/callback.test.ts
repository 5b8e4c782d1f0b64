// Issue 14, callbacks on loopback: a holder the index lists as behind a NAT is reached by CALLBACK
// (it connects out to the downloader, whose file server serves nothing here: the holder's does);
// a holder whose direct connect fails is asked too; greetings that answer no callback are dropped,
// and a CONNECT-BACK from anyone but the index server is ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { silentLogger } from '../../src/log/index.js';
import { encodeLine } from '../../src/protocol/index.js';
import { CallbackListener } from '../../src/reach/callback-listener.js';
import { reachHolders } from '../../src/reach/open-connection.js';
import { RawClient } from '../helpers/server.js';
import { startTestnet } from '../helpers/testnet.js';

const binary = randomBytes(50_000);

test('a holder behind a NAT is reached by callback, and the file arrives verified', async (t) => {
  // The holder declares a documentation address nobody can connect to: only a callback reaches it.
  const net = await startTestnet(t, { peers: [{ files: { 'blob.bin': binary }, options: { host: '192.0.2.5' } }, {}] });
  const [holder, downloader] = net.peers as [typeof net.peers[0], typeof net.peers[0]];
  assert.equal(holder.peer.seenAs?.behindNat, true);
  const pushes: string[] = [];
  holder.peer.on('message', (m) => {
    if (m.direction === 'received' && m.message.type === 'CONNECT-BACK') pushes.push(m.message.from);
  });
  const result = await downloader.peer.download('blob.bin', { outDir: downloader.downloads, connectTimeoutMs: 2000 });
  assert.equal(result.holder, holder.name);
  assert.deepEqual(result.attempts, []);
  assert.deepEqual(await readFile(join(downloader.downloads, 'blob.bin')), binary);
  assert.deepEqual(pushes, [downloader.name]);
});

test('a holder whose direct connect fails is asked for a callback', async (t) => {
  const listener = await CallbackListener.open(silentLogger, '127.0.0.1');
  t.after(() => listener.close());
  const closed = createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const asked: string[] = [];
  // Stands in for the index server and the holder: connects back and greets with the nonce.
  const askCallback = async (holder: string, tcpPort: number, nonce: string) => {
    asked.push(holder);
    const socket = connect({ host: '127.0.0.1', port: tcpPort });
    socket.write(encodeLine({ type: 'CONNECTED-BACK', rq: 1, name: holder, nonce }));
    t.after(() => socket.destroy());
    return { type: 'CALLBACK-SENT' as const, rq: 1, name: holder };
  };
  const open = reachHolders({ askCallback, listener, logger: silentLogger });
  const socket = await open({ name: 'alice', ip: '127.0.0.1', tcpPort: closedPort }, { timeoutMs: 1000 });
  assert.deepEqual(asked, ['alice']);
  assert.ok(socket.remotePort! > 0);
  socket.destroy();
});

test('the listener drops a greeting with a nonce it did not ask for, or a first line that is not one', async (t) => {
  const listener = await CallbackListener.open(silentLogger, '127.0.0.1');
  t.after(() => listener.close());
  const waiting = listener.expect('a'.repeat(32), 1500);
  for (const line of [encodeLine({ type: 'CONNECTED-BACK', rq: 1, name: 'mallory', nonce: 'b'.repeat(32) }), encodeLine({ type: 'DOWNLOAD', rq: 1, file: 'x' })]) {
    const socket = connect({ host: '127.0.0.1', port: listener.port });
    socket.write(line);
    socket.resume();
    await once(socket, 'close');
  }
  assert.equal(await waiting.connection, undefined);
});

test('a CONNECT-BACK from anyone but the index server is ignored: nothing connects to the forged address', async (t) => {
  const net = await startTestnet(t, { peers: [{ files: { 'a.txt': 'a' }, options: { host: '192.0.2.5' } }] });
  const [holder] = net.peers as [typeof net.peers[0]];
  const victim = createServer((socket) => connections.push(socket.remotePort!));
  const connections: number[] = [];
  victim.listen(0, '127.0.0.1');
  await once(victim, 'listening');
  t.after(() => victim.close());
  const forger = await RawClient.open({ host: '127.0.0.1', port: holder.peer.contact.udpPort }, t);
  forger.send({ type: 'CONNECT-BACK', rq: 1, from: 'mallory', ip: '127.0.0.1', tcpPort: (victim.address() as AddressInfo).port, nonce: 'c'.repeat(32) });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(connections, []);
});
