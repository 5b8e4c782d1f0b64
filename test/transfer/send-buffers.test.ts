// The sender's reusable batch buffers: a buffer goes back to the pool only whole, once, and only
// when the socket is done with it; frames built in reused buffers are the same bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { FrameEncoder } from '../../src/transfer/codec/frame-encoder.js';
import { IDLE_SEND_BUFFERS } from '../../src/transfer/limits.js';
import { SendBuffers } from '../../src/transfer/upload/send-buffers.js';

test('a buffer given back is taken again; foreign, cut or surplus buffers are not kept', () => {
  const buffers = new SendBuffers();
  const first = buffers.take(1000);
  assert.equal(first.length, buffers.bufferBytes);
  buffers.give(first.subarray(0, 10)); // the batch the encoder handed out: the start of the buffer
  assert.equal(buffers.take(1000).buffer, first.buffer);

  assert.equal(buffers.take(buffers.bufferBytes + 1).length, buffers.bufferBytes + 1, 'a larger request gets its own buffer');
  const inner = Buffer.allocUnsafeSlow(buffers.bufferBytes + 8).subarray(8);
  buffers.give(inner); // a slice inside a bigger buffer is never kept
  assert.notEqual(buffers.take(1).buffer, inner.buffer);

  const many = Array.from({ length: IDLE_SEND_BUFFERS + 5 }, () => buffers.take(1));
  for (const buffer of many) buffers.give(buffer);
  const again = new Set(Array.from({ length: IDLE_SEND_BUFFERS + 5 }, () => buffers.take(1).buffer));
  assert.equal([...again].filter((buffer) => many.some((given) => given.buffer === buffer)).length, IDLE_SEND_BUFFERS);
});

test('with a pool, every batch is a buffer of its own, and reusing them changes no byte', () => {
  const data = randomBytes(2_000_000);
  const plain = new FrameEncoder({ rq: 5, file: 'a.bin', encoding: 'base64' });
  const expected = Buffer.concat([...plain.push(data), ...plain.end(data.length, '0'.repeat(64))]);

  const BLOCK = 256 * 1024;
  const buffers = new SendBuffers();
  const pooled = new FrameEncoder({ rq: 5, file: 'a.bin', encoding: 'base64', buffers });
  const wire: Buffer[] = [];
  const seen = new Set<ArrayBufferLike>();
  // Blocks as the disk reads them; each batch is copied out (as the kernel does) and given back.
  const blocks = Array.from({ length: Math.ceil(data.length / BLOCK) }, (_, i) => data.subarray(i * BLOCK, (i + 1) * BLOCK));
  for (const step of [...blocks.map((block) => () => pooled.push(block)), () => pooled.end(data.length, '0'.repeat(64))]) {
    const batches = step();
    for (const batch of batches) {
      assert.ok(!seen.has(batch.buffer) || batch.byteOffset === 0, 'two batches out at once share a buffer');
      seen.add(batch.buffer);
      wire.push(Buffer.from(batch));
    }
    for (const batch of batches) buffers.give(batch);
  }
  assert.ok(Buffer.concat(wire).equals(expected), 'the frames differ from those built in fresh buffers');
  assert.ok(seen.size < wire.length, `buffers were reused (${seen.size} buffers for ${wire.length} batches)`);
});
