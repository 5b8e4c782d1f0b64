// Issue 14, relays on loopback: a relay at its cap refuses with RELAY-DENIED and a reason; and a
// relay that alters one byte is caught by the downloader's end-to-end verification, never trusted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/log/index.js';
import { decodeTcpFrame, encodeLine } from '../../src/protocol/index.js';
import { CallbackListener } from '../../src/reach/callback-listener.js';
import { readFirstLine } from '../../src/reach/first-line.js';
import { reachHolders } from '../../src/reach/open-connection.js';
import { Relay } from '../../src/reach/relay.js';
import { downloadFile, DownloadError } from '../../src/transfer/index.js';
import { startTestnet } from '../helpers/testnet.js';

test('a relay at its cap answers RELAY-DENIED, saying so', async (t) => {
  // Its callbacks never get an answer: the first RELAY holds the only slot while it waits.
  const relay = await Relay.open({ askCallback: () => new Promise(() => {}), logger: silentLogger, host: '127.0.0.1', maxTransfers: 1 });
  t.after(() => relay.close());
  const ask = async (): Promise<Socket> => {
    const socket = connect({ host: '127.0.0.1', port: relay.port });
    await once(socket, 'connect');
    socket.write(encodeLine({ type: 'RELAY', rq: 9, name: 'alice' }));
    t.after(() => socket.destroy());
    return socket;
  };
  await ask();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const second = await ask();
  const answer = decodeTcpFrame(await readFirstLine(second, 2000));
  assert.deepEqual(answer, { type: 'RELAY-DENIED', rq: 9, reason: 'this relay carries 1 transfers already (its cap); try later' });
  assert.equal(relay.transfers, 1);
});

test('a relay that alters a byte is caught: the download fails verification and keeps nothing', async (t) => {
  const text = 'the holder\'s own words, '.repeat(100);
  const net = await startTestnet(t, { peers: [{ files: { 'words.txt': text } }] });
  const [holder] = net.peers as [typeof net.peers[0]];
  const [listed] = await holder.peer.search('words.txt');
  // An evil relay: answers RELAY-READY, then carries the holder's bytes with one letter changed.
  const evil = createServer((downloader) => {
    downloader.once('data', () => {
      downloader.write(encodeLine({ type: 'RELAY-READY', rq: 1, name: holder.name }));
      const upstream = connect({ host: '127.0.0.1', port: holder.peer.contact.tcpPort });
      downloader.pipe(upstream);
      let altered = false;
      upstream.on('data', (chunk: Buffer) => {
        const at = altered ? -1 : chunk.indexOf('holder');
        if (at >= 0) {
          chunk[at] = 'H'.charCodeAt(0);
          altered = true;
        }
        downloader.write(chunk);
      });
      upstream.on('end', () => downloader.end());
    });
  });
  evil.listen(0, '127.0.0.1');
  await once(evil, 'listening');
  t.after(() => evil.close());
  const listener = await CallbackListener.open(silentLogger, '127.0.0.1');
  t.after(() => listener.close());
  const openConnection = reachHolders({
    askCallback: async () => assert.fail('both behind NATs: no callback is asked for'),
    listener,
    logger: silentLogger,
    behindNat: () => true,
    relays: async () => [{ name: 'evil', ip: '127.0.0.1', relayPort: (evil.address() as AddressInfo).port }],
  });
  const out = await mkdtemp(join(tmpdir(), 'p2fs-relay-'));
  t.after(() => rm(out, { recursive: true, force: true }));
  await assert.rejects(
    downloadFile({ file: 'words.txt', holders: [{ ...listed!, behindNat: true }], outDir: out, openConnection }),
    (error: unknown) => {
      assert.ok(error instanceof DownloadError, String(error));
      assert.match(error.message, /SHA-256|corrupt|verif/i);
      return true;
    },
  );
});
