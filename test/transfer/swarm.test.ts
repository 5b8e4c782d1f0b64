// Swarm downloads: one file from every holder at once, piece by piece, each piece proven against the
// pieces root before it is written. Byte-exact from 1, 2, 4 and 8 holders; a holder that corrupts
// what it relays is caught, named and dropped; a holder that stalls mid-range, holders that leave
// and join, and a downloader killed with -9 then resumed, keeping only verified pieces.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IndexClient } from '../../src/client/index.js';
import { CHUNKS_PER_PIECE, downloadFile, partPathsFor, scanFile, type FileServer, type Holder } from '../../src/transfer/index.js';
import { kill9, nextLine, sampleText, share, startFixture, startServer, tempDir } from './helpers.js';
import { startRelay } from './relay.js';
import { PieceScheduler } from '../../src/transfer/download/piece-scheduler.js';
import { runPeer } from '../helpers/cli.js';
import { startTestnet } from '../helpers/testnet.js';

const HANG_GUARD = { timeout: 120_000 };

/** n file servers sharing one folder with `files`, and the holders SEARCH-FILE would list for `file`. */
async function swarmOf(t: TestContext, n: number, files: Record<string, Uint8Array>): Promise<{ servers: FileServer[]; shareDir: string; holdersOf: (file: string) => Promise<Holder[]> }> {
  const shareDir = await tempDir(t);
  for (const [name, data] of Object.entries(files)) await share(shareDir, name, data);
  const servers: FileServer[] = [];
  for (let i = 0; i < n; i++) servers.push(await startServer(t, { shareDir }));
  const holdersOf = async (file: string) => {
    const facts = await scanFile(join(shareDir, file));
    return servers.map((server, i) => ({
      name: `holder-${i + 1}`, ip: '127.0.0.1', tcpPort: server.address.port,
      size: facts.size, sha256: facts.sha256, piecesRoot: facts.piecesRoot, chunks: facts.chunks,
    }));
  };
  return { servers, shareDir, holdersOf };
}

const files = {
  'text.txt': sampleText(3_000_000),
  'binary.bin': randomBytes(2_500_000),
  'empty.txt': new Uint8Array(0),
  'one-piece.bin': randomBytes(1000),
};

for (const n of [1, 2, 4, 8]) {
  test(`byte-exact text, binary and empty files from ${n} holder${n === 1 ? '' : 's'} at once`, HANG_GUARD, async (t) => {
    const { holdersOf } = await swarmOf(t, n, files);
    for (const [name, data] of Object.entries(files)) {
      const outDir = await tempDir(t);
      const result = await downloadFile({ file: name, outDir, holders: await holdersOf(name) });
      assert.ok((await readFile(join(outDir, name))).equals(data), `${name} is byte-exact`);
      assert.equal(result.size, data.length);
      const total = Object.values(result.bytesByHolder).reduce((a, b) => a + b, 0);
      assert.equal(total, data.length, `${name}: the bytes by holder add up to the file`);
      if (name === 'binary.bin' || name === 'text.txt') {
        // Every holder takes part in a file of many pieces.
        assert.equal(Object.keys(result.bytesByHolder).length, n, `${name}: ${JSON.stringify(result.bytesByHolder)}`);
      }
      assert.deepEqual(await readdir(outDir), [name], 'no .part or state file is left');
    }
  });
}

test('a holder that corrupts what it relays is caught, named and dropped; the file still arrives byte-exact', HANG_GUARD, async (t) => {
  const data = { 'big.iso': randomBytes(3_000_000), 'notes.txt': sampleText(2_000_000) };
  const { holdersOf } = await swarmOf(t, 3, data);
  for (const name of Object.keys(data) as Array<keyof typeof data>) {
    const honest = await holdersOf(name);
    const relay = await startRelay(honest[0]!.tcpPort, { corrupt: true });
    t.after(() => relay.close());
    const holders = [{ ...honest[0]!, name: 'carol', tcpPort: relay.port }, honest[1]!, honest[2]!];
    const outDir = await tempDir(t);
    const told: string[] = [];
    const result = await downloadFile({ file: name, outDir, holders, onHolderDropped: (dropped) => told.push(`${dropped.holder} ${dropped.code}`) });
    assert.ok((await readFile(join(outDir, name))).equals(data[name]), `${name} is byte-exact`);
    assert.deepEqual(told, ['carol CORRUPT_PIECE']);
    assert.equal(result.dropped.length, 1);
    assert.equal(result.dropped[0]!.holder, 'carol');
    assert.match(result.dropped[0]!.reason, new RegExp(`^sent a corrupt piece of "${name.replace('.', '\\.')}"`));
    assert.equal(result.bytesByHolder.carol, undefined, 'nothing carol sent was kept');
    assert.ok(relay.forwarded > 0, 'carol did send');
  }
});

test('a holder that stalls in the middle of a range holds nothing back: its pieces go to the others', HANG_GUARD, async (t) => {
  const data = randomBytes(4_000_000);
  const { holdersOf } = await swarmOf(t, 3, { 'big.bin': data });
  const honest = await holdersOf('big.bin');
  // It answers the first window halfway (about 1.5 pieces), then goes silent with the connection open.
  const relay = await startRelay(honest[0]!.tcpPort, { stallAfterBytes: 100_000 });
  t.after(() => relay.close());
  const holders = [{ ...honest[0]!, name: 'staller', tcpPort: relay.port }, honest[1]!, honest[2]!];
  const outDir = await tempDir(t);
  const started = Date.now();
  const result = await downloadFile({ file: 'big.bin', outDir, holders, stallTimeoutMs: 60_000 });
  assert.ok((await readFile(join(outDir, 'big.bin'))).equals(data));
  assert.ok(Date.now() - started < 30_000, 'the download did not wait for the stall timeout');
  assert.ok((result.bytesByHolder.staller ?? 0) <= 100_000);
});

test('holders that leave and join during a download: it adapts and completes byte-exact', HANG_GUARD, async (t) => {
  const data = randomBytes(6_000_000);
  const { servers, holdersOf } = await swarmOf(t, 3, { 'big.bin': data });
  const [first, second, third] = await holdersOf('big.bin');
  // Throttled to 2 MB/s each, so the download lasts long enough for the changes.
  const relays = await Promise.all([first!, second!, third!].map((holder) => startRelay(holder.tcpPort, { bytesPerSecond: 2_000_000 })));
  t.after(() => Promise.all(relays.map((relay) => relay.close())));
  const [alice, bob, dave] = relays.map((relay, i) => ({ ...first!, name: ['alice', 'bob', 'dave'][i]!, tcpPort: relay.port }));
  let listed = [alice!, bob!];
  const outDir = await tempDir(t);
  const download = downloadFile({ file: 'big.bin', outDir, holders: listed, findHolders: async () => listed, requeryMs: 200, maxHolders: 8 });
  await new Promise((resolve) => setTimeout(resolve, 600));
  // bob leaves (his server goes away and the index stops listing him); dave joins.
  listed = [alice!, dave!];
  await relays[1]!.close();
  await servers[1]!.close();
  const result = await download;
  assert.ok((await readFile(join(outDir, 'big.bin'))).equals(data));
  assert.ok((result.bytesByHolder.dave ?? 0) > 0, `dave joined: ${JSON.stringify(result.bytesByHolder)}`);
  assert.ok((result.bytesByHolder.alice ?? 0) > 0);
  const total = Object.values(result.bytesByHolder).reduce((a, b) => a + b, 0);
  assert.equal(total, data.length);
});

test('kill -9 of the downloader, then the same download again: only verified pieces were kept, and it resumes', HANG_GUARD, async (t) => {
  const data = randomBytes(8_000_000);
  const { holdersOf } = await swarmOf(t, 3, { 'big.bin': data });
  const honest = await holdersOf('big.bin');
  // Two honest holders at 2 MB/s each and one that corrupts every piece it sends.
  const relays = await Promise.all([
    startRelay(honest[0]!.tcpPort, { bytesPerSecond: 2_000_000 }),
    startRelay(honest[1]!.tcpPort, { bytesPerSecond: 2_000_000 }),
    startRelay(honest[2]!.tcpPort, { corrupt: true }),
  ]);
  t.after(() => Promise.all(relays.map((relay) => relay.close())));
  const holders = relays.map((relay, i) => ({ ...honest[i]!, name: ['alice', 'bob', 'carol'][i]!, tcpPort: relay.port }));
  const outDir = await tempDir(t);
  const child = startFixture(t, 'download-child.ts', ['big.bin', outDir, JSON.stringify(holders)]);
  for (;;) {
    const line = await nextLine<{ progress?: { bytes: number } }>(child.lines);
    if ((line.progress?.bytes ?? 0) >= 2_000_000) break;
  }
  await kill9(child.child);

  // What the killed run recorded as verified is exactly the published bytes at those pieces.
  const paths = partPathsFor(outDir, 'big.bin');
  const state = JSON.parse(await readFile(paths.state, 'utf8')) as { pieces: { verified: string; bytes: number } };
  const bits = Buffer.from(state.pieces.verified, 'base64');
  const part = await readFile(paths.part);
  const pieceBytes = CHUNKS_PER_PIECE * 150;
  let kept = 0;
  for (let piece = 0; piece * pieceBytes < data.length; piece++) {
    if (!(bits[piece >> 3]! & (1 << (piece & 7)))) continue;
    kept++;
    const at = piece * pieceBytes;
    assert.ok(part.subarray(at, at + pieceBytes).equals(data.subarray(at, at + pieceBytes)), `recorded piece ${piece} holds the published bytes`);
  }
  assert.ok(kept > 0, 'the killed run kept some pieces');
  assert.equal(state.pieces.bytes, kept * pieceBytes);

  const result = await downloadFile({ file: 'big.bin', outDir, holders: holders.slice(0, 2) });
  assert.ok((await readFile(join(outDir, 'big.bin'))).equals(data));
  assert.equal(result.resumedFromChunk > 1, true);
  const fetched = Object.values(result.bytesByHolder).reduce((a, b) => a + b, 0);
  assert.equal(fetched, data.length - kept * pieceBytes, 'the resumed run fetched only the pieces not kept');
  assert.deepEqual(await readdir(outDir), ['big.bin']);
});

test('get names a corrupting holder and drops it, in its output and in --json, and says who sent what', HANG_GUARD, async (t) => {
  const iso = randomBytes(3_000_000);
  const net = await startTestnet(t, { peers: [{ name: `alice-${process.pid}`, files: { 'big.iso': iso } }, { name: `bob-${process.pid}`, files: { 'big.iso': iso } }] });
  const [alice] = net.peers as [typeof net.peers[0]];
  const relay = await startRelay(alice.peer.contact.tcpPort, { corrupt: true });
  t.after(() => relay.close());
  // carol lists the same file, but what she sends is alice's bytes with a character flipped.
  const carol = await IndexClient.open({ server: net.server.target });
  t.after(() => carol.close());
  await carol.register({ name: 'carol', ip: '127.0.0.1', tcpPort: relay.port });
  await carol.publish((await alice.peer.peerInfo(alice.name)).files);
  const server = `127.0.0.1:${net.server.target.port}`;

  const out = await tempDir(t);
  const got = await runPeer(['get', 'big.iso', '--server', server, '--out', out, '--host', '127.0.0.1']);
  assert.equal(got.code, 0, got.stderr);
  assert.match(got.stderr, /^carol sent a corrupt piece of big\.iso; dropped$/m);
  assert.match(got.stdout, new RegExp(`^saved .*big\\.iso \\(3\\.00 MB, SHA-256 [0-9a-f]{64} verified\\) from (alice|bob)-${process.pid} \\(.*\\), (alice|bob)-${process.pid} \\(.*\\)$`, 'm'));
  assert.ok((await readFile(join(out, 'big.iso'))).equals(iso));

  const jsonOut = await tempDir(t);
  const json = await runPeer(['get', 'big.iso', '--server', server, '--out', jsonOut, '--host', '127.0.0.1', '--json', '--max-holders', '3']);
  assert.equal(json.code, 0, json.stderr);
  const summary = JSON.parse(json.stdout) as { ok: boolean; dropped: Array<{ holder: string; code: string }>; bytesByHolder: Record<string, number> };
  assert.equal(summary.ok, true);
  assert.deepEqual(summary.dropped.map((d) => [d.holder, d.code]), [['carol', 'CORRUPT_PIECE']]);
  assert.equal(Object.values(summary.bytesByHolder).reduce((a, b) => a + b, 0), iso.length);
  assert.equal(summary.bytesByHolder.carol, undefined);
  const events = json.stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { event?: string; holder?: string });
  assert.ok(events.some((e) => e.event === 'holder-dropped' && e.holder === 'carol'), json.stderr);
});

test('PieceScheduler: windows double from 2 to 64 pieces, freed pieces go to others, the last ones go to a second holder', () => {
  const scheduler = new PieceScheduler(300, (piece) => piece === 5);
  const sizes: number[] = [];
  for (let i = 0; i < 8; i++) {
    const window = scheduler.next('a')!;
    sizes.push(window.last - window.first + 1);
    for (let piece = window.first; piece <= window.last; piece++) scheduler.verify(piece, 'a');
    scheduler.windowDone('a');
  }
  // Piece 5 was kept from before: the second window stops short of it, the third starts after it.
  assert.deepEqual(sizes, [2, 3, 8, 16, 32, 64, 64, 64]);
  const b = scheduler.next('b')!;
  assert.deepEqual([b.first, b.last, b.duplicate], [254, 255, false]);
  scheduler.release('b');
  assert.deepEqual(scheduler.next('c'), { first: 254, last: 255, duplicate: false }, 'what b left is handed out again');
  const rest = scheduler.next('a')!;
  assert.deepEqual([rest.first, rest.last], [256, 299]);
  // Nothing is left unasked: endgame hands a second holder the latest piece in flight.
  assert.deepEqual(scheduler.next('b'), { first: 299, last: 299, duplicate: true });
  assert.equal(scheduler.verify(299, 'b'), true, 'the first copy to verify wins');
  assert.equal(scheduler.verify(299, 'a'), false, 'the second is a duplicate');
  assert.equal(scheduler.next('a')!.first, 255, 'a, with nothing unasked, helps with c\'s pieces');
});

test('openConnection: the download uses the connections it is given, and one that fails its own way is a failed connect', HANG_GUARD, async (t) => {
  const data = randomBytes(500_000);
  const { holdersOf } = await swarmOf(t, 2, { 'seam.bin': data });
  const [reachable, unreachable] = await holdersOf('seam.bin');
  const opened: string[] = [];
  const outDir = await tempDir(t);
  const result = await downloadFile({
    file: 'seam.bin', outDir, holders: [reachable!, { ...unreachable!, name: 'behind-nat' }],
    openConnection: async (holder) => {
      opened.push(holder.name);
      if (holder.name === 'behind-nat') throw new Error('no route through the NAT');
      const socket = connect({ host: holder.ip, port: holder.tcpPort });
      await once(socket, 'connect');
      return socket;
    },
  });
  assert.ok((await readFile(join(outDir, 'seam.bin'))).equals(data));
  assert.ok(opened.includes('holder-1') && opened.includes('behind-nat'));
  const failed = result.attempts.find((attempt) => attempt.holder.startsWith('behind-nat'));
  assert.equal(failed?.code, 'CONNECT_FAILED');
  assert.equal(failed?.reason, 'cannot connect: no route through the NAT');
});
