// Pieces: the tree a publisher computes, ranged serving with a PIECE frame and proof before each
// piece, the refusals of ranges that are not whole pieces of the file, the course's DOWNLOAD without
// a range (unchanged frames), and the piece facts travelling through PUBLISH and the listings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { silentLogger } from '../../src/log/index.js';
import { pieceSlabPool } from '../../src/transfer/codec/piece-decoder.js';
import { HolderConnection } from '../../src/transfer/download/holder-connection.js';
import { IndexClient } from '../../src/client/index.js';
import { CHUNKS_PER_PIECE, startLeaf, verifyProof } from '../../src/transfer/pieces/merkle.js';
import { scanFile } from '../../src/transfer/pieces/scan-file.js';
import { startTestnet } from '../helpers/testnet.js';
import { connectTo, exchange, sampleText, sha256, share, startServer, tempDir } from './helpers.js';

const HANG_GUARD = { timeout: 60_000 };

/** The course's frames, built the plainest way: 200 code points (or 150 bytes as base64) per chunk. */
function courseFrames(data: Buffer, rq: number, file: string): string[] {
  const base64 = !isUtf8(data);
  const chunks: string[] = [];
  if (base64) {
    for (let at = 0; at < data.length; at += 150) chunks.push(data.subarray(at, at + 150).toString('base64'));
  } else {
    const chars = [...data.toString('utf8')];
    for (let at = 0; at < chars.length; at += 200) chunks.push(chars.slice(at, at + 200).join(''));
  }
  if (chunks.length === 0) chunks.push('');
  const encoding = base64 ? { encoding: 'base64' } : {};
  return chunks.map((text, i) =>
    i < chunks.length - 1
      ? JSON.stringify({ type: 'FILE', rq, file, chunk: i + 1, text, ...encoding })
      : JSON.stringify({ type: 'FILE-END', rq, file, chunk: i + 1, text, ...encoding, size: data.length, sha256: sha256(data) }),
  );
}

const isUtf8 = (data: Buffer): boolean => Buffer.from(data.toString('utf8')).equals(data);

/** Reads the socket's lines until `count` arrived. */
async function readLines(socket: Socket, count: number): Promise<string[]> {
  const decoder = new StringDecoder('utf8');
  const lines: string[] = [];
  let pending = '';
  while (lines.length < count) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    pending += decoder.write(chunk);
    const parts = pending.split('\n');
    pending = parts.pop()!;
    lines.push(...parts);
  }
  assert.equal(pending, '', 'nothing follows the lines of the reply');
  return lines;
}

/** The root of a tree over hand-made leaves, computed without the module under test. */
function referenceRoot(pieces: Buffer[], offsets: number[]): string {
  const h = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
  let layer = pieces.map((piece, i) => {
    const offset = Buffer.alloc(8);
    offset.writeBigUInt64BE(BigInt(offsets[i]!));
    return h(offset, piece);
  });
  while (layer.length & (layer.length - 1)) layer.push(Buffer.alloc(32));
  while (layer.length > 1) layer = Array.from({ length: layer.length / 2 }, (_, i) => h(layer[2 * i]!, layer[2 * i + 1]!));
  return layer[0]!.toString('hex');
}

test('scanFile: the pieces root of a binary file of three pieces is the BEP 52 style root of its pieces', async (t) => {
  const dir = await tempDir(t);
  const data = randomBytes(2 * 38_400 + 1000);
  await share(dir, 'three.bin', data);
  const facts = await scanFile(join(dir, 'three.bin'));
  const offsets = [0, 38_400, 76_800];
  assert.equal(facts.utf8, false);
  assert.equal(facts.chunks, Math.ceil(data.length / 150));
  assert.deepEqual(facts.tree.offsets, [...offsets, data.length]);
  assert.equal(facts.piecesRoot, referenceRoot(offsets.map((at, i) => data.subarray(at, offsets[i + 1] ?? data.length)), offsets));

  const text = Buffer.from('é'.repeat(CHUNKS_PER_PIECE * 200 + 1));
  await share(dir, 'two.txt', text);
  const textFacts = await scanFile(join(dir, 'two.txt'));
  // A text piece is 51,200 code points: here 102,400 bytes of two-byte characters, then one more.
  assert.deepEqual(textFacts.tree.offsets, [0, 102_400, 102_402]);
  assert.equal(textFacts.piecesRoot, referenceRoot([text.subarray(0, 102_400), text.subarray(102_400)], [0, 102_400]));

  const empty = await share(dir, 'empty.txt', Buffer.alloc(0));
  const emptyFacts = await scanFile(join(dir, 'empty.txt'));
  assert.equal(emptyFacts.chunks, 1);
  assert.equal(emptyFacts.piecesRoot, referenceRoot([Buffer.alloc(0)], [0]));
  assert.equal(emptyFacts.sha256, empty.sha256);
});

test('a course-style DOWNLOAD without a range gets exactly the course frames, then the connection closes', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  const text = sampleText(3 * 51_200 + 777);
  const binary = randomBytes(3 * 38_400 + 99);
  await share(shareDir, 'text.txt', text);
  await share(shareDir, 'blob.bin', binary);
  await share(shareDir, 'empty.txt', Buffer.alloc(0));
  const server = await startServer(t, { shareDir });
  for (const [file, data] of [['text.txt', text], ['blob.bin', binary], ['empty.txt', Buffer.alloc(0)]] as const) {
    const replies = await exchange(t, server.address.port, `${JSON.stringify({ type: 'DOWNLOAD', rq: 5, file })}\n`);
    assert.deepEqual(replies.map((frame) => JSON.stringify(frame)), courseFrames(data, 5, file), file);
  }
});

test('a ranged DOWNLOAD gets a PIECE frame before each piece, the same FILE frames, and the connection serves the next range', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  const files = { 'text.txt': sampleText(4 * 51_200 * 3 + 5_000), 'blob.bin': randomBytes(5 * 38_400 + 7) };
  for (const [name, data] of Object.entries(files)) await share(shareDir, name, data);
  const server = await startServer(t, { shareDir });
  for (const [file, data] of Object.entries(files)) {
    const facts = await scanFile(join(shareDir, file));
    const whole = courseFrames(data, 9, file);
    const socket = await connectTo(t, server.address.port);
    const pieces = facts.tree.pieces;
    // Pieces 1 and 2 first, then the rest to the end of the file, on the same connection.
    const ranges = [[1, 2], [3, pieces - 3]] as const;
    for (const [first, count] of ranges) {
      const fromChunk = first * CHUNKS_PER_PIECE + 1;
      const chunkCount = Math.min(facts.chunks, (first + count) * CHUNKS_PER_PIECE) - fromChunk + 1;
      socket.write(`${JSON.stringify({ type: 'DOWNLOAD', rq: 9, file, fromChunk, count: chunkCount })}\n`);
      const lines = await readLines(socket, chunkCount + count);
      for (let piece = first, at = 0; piece < first + count; piece++) {
        const header = JSON.parse(lines[at++]!) as { type: string; piece: number; offset: number; proof: string[] };
        assert.equal(header.type, 'PIECE');
        assert.equal(header.piece, piece);
        assert.equal(header.offset, facts.tree.offsets[piece]);
        const inPiece = Math.min(CHUNKS_PER_PIECE, facts.chunks - piece * CHUNKS_PER_PIECE);
        const frames = lines.slice(at, at + inPiece);
        assert.deepEqual(frames, whole.slice(piece * CHUNKS_PER_PIECE, piece * CHUNKS_PER_PIECE + inPiece).map((line) => line), `${file} piece ${piece}`);
        at += inPiece;
        const bytes = data.subarray(header.offset, facts.tree.offsets[piece + 1]);
        assert.ok(verifyProof(startLeaf(header.offset).update(bytes).digest(), piece, pieces, header.proof, facts.piecesRoot), `${file} piece ${piece} verifies`);
        // A proof one level short, or for another piece, does not.
        assert.ok(!verifyProof(startLeaf(header.offset).update(bytes).digest(), piece, pieces, header.proof.slice(1), facts.piecesRoot));
        assert.ok(!verifyProof(startLeaf(header.offset).update(bytes).digest(), piece ^ 1, pieces, header.proof, facts.piecesRoot));
      }
    }
    socket.end();
    await once(socket, 'close');
  }
});

test('a range outside the file, or not on piece boundaries, gets DOWNLOAD-ERROR naming the rule', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  await share(shareDir, 'blob.bin', randomBytes(2 * 38_400 + 150)); // 513 chunks, 3 pieces
  await share(shareDir, 'empty.txt', Buffer.alloc(0));
  const server = await startServer(t, { shareDir });
  const ask = (fields: object) => exchange(t, server.address.port, `${JSON.stringify({ type: 'DOWNLOAD', rq: 4, ...fields })}\n`);

  const outside = await ask({ file: 'blob.bin', fromChunk: 513, count: 2 });
  assert.deepEqual(outside, [{ type: 'DOWNLOAD-ERROR', rq: 4, reason: 'range of chunks 513 to 514 is outside file "blob.bin", which has 513 chunks' }]);
  const farOutside = await ask({ file: 'blob.bin', fromChunk: 769, count: 1 });
  assert.match(String(farOutside[0]!.reason), /^range of chunks 769 to 769 is outside file "blob\.bin"/);
  const offBoundary = await ask({ file: 'blob.bin', fromChunk: 2, count: 255 });
  assert.match(String(offBoundary[0]!.reason), /must start at a piece's first chunk \(256 k \+ 1\)/);
  const shortEnd = await ask({ file: 'blob.bin', fromChunk: 1, count: 300 });
  assert.match(String(shortEnd[0]!.reason), /end at a piece's last chunk \(256 k\) or at the file's last \(513\)/);
  const zero = await ask({ file: 'blob.bin', fromChunk: 1, count: 0 });
  assert.match(String(zero[0]!.reason), /count/);

  // The last piece alone, and an empty file's one empty piece, are fine.
  const last = await ask({ file: 'blob.bin', fromChunk: 513, count: 1 });
  assert.deepEqual(last.map((frame) => frame.type), ['PIECE', 'FILE-END']);
  const empty = await ask({ file: 'empty.txt', fromChunk: 1, count: 1 });
  assert.deepEqual(empty[0], { type: 'PIECE', rq: 4, file: 'empty.txt', piece: 0, offset: 0, proof: [] });
  assert.equal(empty[1]!.text, '');
});

test('the index lists each file with its pieces root and chunk count, and PUBLISH takes that shape unchanged', HANG_GUARD, async (t) => {
  const net = await startTestnet(t, { peers: [{ files: { 'big.bin': randomBytes(100_000), 'note.txt': 'hello pieces\n' } }] });
  const [alice] = net.peers as [typeof net.peers[0]];
  const listed = (await alice.peer.peerInfo(alice.name)).files;
  for (const entry of listed) {
    const facts = await scanFile(join(alice.share, entry.name));
    assert.deepEqual(entry, { name: entry.name, size: facts.size, sha256: facts.sha256, piecesRoot: facts.piecesRoot, chunks: facts.chunks });
  }
  const holders = await alice.peer.search('big.bin');
  assert.equal(holders[0]!.piecesRoot, listed.find((f) => f.name === 'big.bin')!.piecesRoot);
  assert.equal(holders[0]!.chunks, Math.ceil(100_000 / 150));

  const client = await IndexClient.open({ server: net.server.target });
  t.after(() => client.close());
  await client.register({ name: `carol-${process.pid}`, ip: '127.0.0.1', tcpPort: 6003 });
  await client.publish(listed);
  assert.deepEqual((await client.retrieveInfo(`carol-${process.pid}`)).files, listed);
});

test('ranges asked ahead, and several pieces completed by one block from the socket, are each handed over, in order, within their range', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  const data = randomBytes(3 * 38_400 + 10); // four pieces
  await share(shareDir, 'four.bin', data);
  const facts = await scanFile(join(shareDir, 'four.bin'));
  const server = await startServer(t, { shareDir });
  // The real reply for pieces 0-1 and 2-3, then replayed to the downloader each in one block.
  const replyTo = async (fromChunk: number, count: number) => {
    const lines = await exchange(t, server.address.port, `${JSON.stringify({ type: 'DOWNLOAD', rq: 77, file: 'four.bin', fromChunk, count })}\n`);
    return lines.map((line) => JSON.stringify(line)).join('\n').concat('\n');
  };
  const replies = [await replyTo(1, 512), await replyTo(513, facts.chunks - 512)];
  const wire = new PassThrough();
  const fake = Object.assign(wire, {
    setTimeout: () => fake,
    write: (line: string) => {
      const { rq } = JSON.parse(line) as { rq: number };
      wire.push(Buffer.from(replies.shift()!.replaceAll('"rq":77,', `"rq":${rq},`)));
      return true;
    },
  }) as unknown as Socket;
  const connection = new HolderConnection(fake, { holder: { name: 'h', ip: '127.0.0.1', tcpPort: 1 }, file: 'four.bin', chunks: facts.chunks, stallTimeoutMs: 10_000, slabs: pieceSlabPool(), log: silentLogger });
  const got: number[] = [];
  connection.ask(0, 1);
  connection.ask(2, 3); // before the first range arrived: both replies come back to back
  for (let range = 0; range < 2; range++) {
    for await (const piece of connection.receive()) {
      got.push(piece.piece);
      assert.ok(piece.data.equals(data.subarray(piece.offset, piece.offset + piece.data.length)));
    }
  }
  assert.deepEqual(got, [0, 1, 2, 3]);
  connection.close();
});
