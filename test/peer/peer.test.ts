// The Peer end to end on loopback: downloads verified byte for byte, clear failures when nobody has
// the file, the keepalive re-registering after the server forgot us, and UPDATE-CONTACT moving ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { PeerError } from '../../src/peer/index.js';
import { startTestServer } from '../helpers/server.js';
import { nextEvent, startTestnet } from '../helpers/testnet.js';

const binary = randomBytes(70_000);
const text = 'Grüße, 世界! 🎉 '.repeat(500);

test('a peer downloads text and binary files from another, byte for byte, through the index', async (t) => {
  const net = await startTestnet(t, { peers: [{ files: { 'story é.txt': text, 'blob.bin': binary } }, {}] });
  const [alice, bob] = net.peers as [typeof net.peers[0], typeof net.peers[0]];
  const progress: number[] = [];
  bob.peer.on('download', (event) => progress.push(event.download.bytes));

  const result = await bob.peer.download('story é.txt', { outDir: bob.downloads });
  assert.equal(result.holder, alice.name);
  assert.deepEqual(await readFile(join(bob.downloads, 'story é.txt')), Buffer.from(text));
  const blob = await bob.peer.download('blob.bin', { outDir: bob.downloads, from: alice.name });
  assert.equal(blob.size, binary.length);
  assert.deepEqual(await readFile(join(bob.downloads, 'blob.bin')), binary);
  assert.ok(progress.at(-1)! > 0);
  assert.deepEqual(bob.peer.status().downloads, []);
});

test('asking for a file nobody shares, or from a peer that lacks it, fails clearly and writes nothing', async (t) => {
  const net = await startTestnet(t, { peers: [{ files: { 'here.txt': 'x' } }, {}] });
  const [alice, bob] = net.peers as [typeof net.peers[0], typeof net.peers[0]];
  await assert.rejects(bob.peer.download('missing.txt', { outDir: bob.downloads }), (error: unknown) => {
    assert.ok(error instanceof PeerError);
    assert.equal(error.code, 'NO_HOLDER');
    assert.equal(error.message, 'nobody shares "missing.txt"');
    return true;
  });
  await assert.rejects(bob.peer.download('here.txt', { outDir: bob.downloads, from: 'carol' }), {
    code: 'NO_HOLDER',
    message: `peer "carol" does not share "here.txt" (it is shared by ${alice.name})`,
  });
  assert.deepEqual(await readdir(bob.downloads), []);
});

test('the keepalive re-registers and republishes when the server forgot the peer', async (t) => {
  const net = await startTestnet(t, { peers: [{ files: { 'kept.txt': 'still here' }, options: { keepaliveMs: 50 } }] });
  const [{ peer, name }] = net.peers as [typeof net.peers[0]];
  const port = net.server.target.port;
  const firstToken = net.server.registry.snapshot().peers[0]!.token;

  // The server restarts on an empty store, at the same address.
  await net.server.close();
  const republished = nextEvent(peer, 'share', (change) => change.publish.some((f) => f.name === 'kept.txt'));
  const restarted = await startTestServer(t, { port });
  await republished;
  const again = restarted.registry.peer(name);
  assert.ok(again, 'the peer registered itself again');
  assert.deepEqual([...again.files.keys()], ['kept.txt']);
  assert.notEqual(restarted.registry.snapshot().peers[0]!.token, firstToken);
  assert.equal(peer.registration, 'registered');

  // Another server expires a peer it has not heard from: the same path brings it back.
  let now = Date.now();
  const expiring = await startTestServer(t, { clock: () => now, expireAfterMs: 60_000 });
  const other = await net.addPeer({ files: { 'e.txt': 'x' }, options: { server: expiring.target, keepaliveMs: 50 } });
  const back = nextEvent(other.peer, 'share', (change) => change.publish.some((f) => f.name === 'e.txt'));
  now += 120_000;
  assert.deepEqual(await expiring.expireStale(), [other.name]);
  await back;
  assert.deepEqual([...expiring.registry.peer(other.name)!.files.keys()], ['e.txt']);
  await other.peer.stop();
});

test('a peer that restarts without de-registering (killed) refreshes its registration with the stored token', async (t) => {
  const net = await startTestnet(t);
  const first = await net.addPeer({ files: { 'a.txt': 'a' } });
  const token = net.server.registry.snapshot().peers[0]!.token;
  // A second process on the same share folder, as after a crash: new UDP and TCP ports, same database.
  const restarted = await net.openPeer({ share: first.share });
  await restarted.register();
  const registration = net.server.registry.snapshot().peers;
  assert.equal(registration.length, 1);
  assert.equal(registration[0]!.token, token, 'the same registration, refreshed');
  assert.equal(registration[0]!.tcpPort, restarted.contact.tcpPort, 'now reached at the new address');
  assert.deepEqual(registration[0]!.files.map((f) => f.name), ['a.txt']);
});

test('update-contact moves the file server to a new TCP port, and downloads follow it', async (t) => {
  const net = await startTestnet(t, { peers: [{ files: { 'moving.txt': 'follow me' } }, {}] });
  const [alice, bob] = net.peers as [typeof net.peers[0], typeof net.peers[0]];
  const free = await freePort();
  const confirmed = await alice.peer.updateContact({ tcpPort: free });
  assert.equal(confirmed.tcpPort, free);
  assert.equal(net.server.registry.peer(alice.name)!.tcpPort, free);
  assert.equal(alice.peer.contact.tcpPort, free);
  await bob.peer.download('moving.txt', { outDir: bob.downloads });
  assert.equal(await readFile(join(bob.downloads, 'moving.txt'), 'utf8'), 'follow me');
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
