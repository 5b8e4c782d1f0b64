// A swarm's own TCP connections read into one reused buffer (socket-reads.ts). Reading stops while
// decoded pieces wait for the consumer, starts again once it takes them, and no piece is touched by
// the reads that reuse the buffer after it: every line cut between two reads is carried as a copy,
// and so is a block that arrives before anyone reads the socket's pieces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { silentLogger } from '../../src/log/index.js';
import { PieceDecoder, pieceSlabPool } from '../../src/transfer/codec/piece-decoder.js';
import { HolderConnection, openTcpConnection } from '../../src/transfer/download/holder-connection.js';
import { readPieces } from '../../src/transfer/download/socket-reads.js';
import { MAX_PIECES_UNTAKEN, SOCKET_READ_BYTES } from '../../src/transfer/limits.js';
import { scanFile } from '../../src/transfer/pieces/scan-file.js';
import { holderOf, rangedReply, sampleText, share, startServer, tempDir } from './helpers.js';

const PIECE_BYTES = 256 * 150;

for (const [kind, data] of [['binary', randomBytes(120 * PIECE_BYTES + 777)], ['text', sampleText(6_000_000)]] as const) {
  test(`${kind}: reading stops while pieces wait to be taken, and every piece arrives byte-exact`, { timeout: 60_000 }, async (t) => {
    const shareDir = await tempDir(t);
    await share(shareDir, 'big.file', data);
    const facts = await scanFile(join(shareDir, 'big.file'));
    const server = await startServer(t, { shareDir });
    const holder = holderOf(server);
    const socket = await openTcpConnection(holder, { timeoutMs: 5_000, reusedReadBuffer: true });
    t.after(() => socket.destroy());
    const connection = new HolderConnection(socket, { holder, file: 'big.file', chunks: facts.chunks, stallTimeoutMs: 30_000, slabs: pieceSlabPool(), log: silentLogger });
    const pieces = facts.tree.pieces;
    connection.ask(0, pieces - 1);
    const received = connection.receive();

    const first = await received.next();
    assert.equal(first.value?.piece, 0);
    // Nothing taken for a while: reads stop once MAX_PIECES_UNTAKEN pieces wait, whatever the
    // holder still has to send (the kernel's buffers hold the rest).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const largestPiece = Math.max(...facts.tree.offsets.slice(1).map((end, i) => end - facts.tree.offsets[i]!));
    // On the wire a piece takes at most twice its bytes (base64 and frame fields: ~1.7 times).
    const bound = (MAX_PIECES_UNTAKEN + 2) * largestPiece * 2 + SOCKET_READ_BYTES;
    assert.ok(socket.bytesRead < bound, `read ${socket.bytesRead} bytes while nobody took a piece (bound ${Math.round(bound)}, reply ${Math.round(data.length * 1.3)})`);
    const readWhileWaiting = socket.bytesRead;
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(socket.bytesRead, readWhileWaiting, 'reading went on while the pieces waited');

    const seen = [first.value!];
    for await (const piece of received) seen.push(piece);
    assert.deepEqual(seen.map((piece) => piece.piece), Array.from({ length: pieces }, (_, i) => i));
    for (const piece of seen) {
      assert.ok(piece.data.equals(data.subarray(piece.offset, piece.offset + piece.data.length)), `piece ${piece.piece} differs`);
    }
    assert.equal(seen.reduce((bytes, piece) => bytes + piece.data.length, 0), data.length);
  });
}

test('bytes that arrive before anyone reads pieces are kept, a few blocks at most, and decoded in order', { timeout: 60_000 }, async (t) => {
  const data = randomBytes(60 * PIECE_BYTES);
  const reply = rangedReply(data, 'base64', PIECE_BYTES, 'early.bin', 5);
  // A holder that answers before it is asked: the whole reply at once, on connection.
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.end(reply);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;
  const socket = await openTcpConnection({ name: 'early', ip: '127.0.0.1', tcpPort: port }, { timeoutMs: 5_000, reusedReadBuffer: true });
  t.after(() => socket.destroy());
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.ok(socket.bytesRead <= 4 * SOCKET_READ_BYTES, `read ${socket.bytesRead} bytes with nobody to take them`);

  const decoder = new PieceDecoder({ file: 'early.bin', chunks: Math.ceil(data.length / 150) });
  decoder.expect(5, 0, 59);
  const seen: number[] = [];
  for await (const piece of readPieces(socket, decoder)) {
    assert.ok(piece.data.equals(data.subarray(piece.offset, piece.offset + PIECE_BYTES)), `piece ${piece.piece} differs`);
    seen.push(piece.piece);
  }
  assert.deepEqual(seen, Array.from({ length: 60 }, (_, i) => i));
});
