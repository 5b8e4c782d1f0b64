// LineSplitter: a TCP byte stream becomes lines; an endless line is cut off at the limit.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineSplitter, ProtocolError, decodeTcpFrame, encodeLine, MAX_LINE_BYTES } from '../../src/protocol/index.js';
import { check, loadSpec, validMessages } from '../spec/spec-kit.js';

const text = (lines: Buffer[]) => lines.map((l) => l.toString('utf8'));

describe('LineSplitter', () => {
  test('a line split across chunks, even inside a multi-byte character', () => {
    const splitter = new LineSplitter(100);
    const bytes = Buffer.from('{"text":"é😀 x"}\n', 'utf8');
    const out: Buffer[] = [];
    for (let i = 0; i < bytes.length; i++) out.push(...splitter.push(bytes.subarray(i, i + 1)));
    assert.deepEqual(text(out), ['{"text":"é😀 x"}']);
    assert.equal(splitter.buffered, 0);
  });

  test('many lines in one chunk, the tail kept for the next chunk', () => {
    const splitter = new LineSplitter(100);
    assert.deepEqual(text(splitter.push(Buffer.from('a\nbb\n\nccc\ndd'))), ['a', 'bb', '', 'ccc']);
    assert.equal(splitter.buffered, 2);
    assert.deepEqual(text(splitter.push(Buffer.from('d\ne'))), ['ddd']);
    assert.deepEqual(text(splitter.push(Buffer.from('\n'))), ['e']);
    assert.equal(splitter.buffered, 0);
  });

  test('an empty chunk and a lone newline', () => {
    const splitter = new LineSplitter(10);
    assert.deepEqual(splitter.push(Buffer.alloc(0)), []);
    assert.deepEqual(text(splitter.push(Buffer.from('\n'))), ['']);
  });

  test('a line of exactly the limit passes; one byte more is TOO_LARGE', () => {
    const limit = 64;
    assert.deepEqual(text(new LineSplitter(limit).push(Buffer.from(`${'x'.repeat(limit)}\n`))), ['x'.repeat(limit)]);
    assert.throws(() => new LineSplitter(limit).push(Buffer.from(`${'x'.repeat(limit + 1)}\n`)), isTooLarge);
    // The limit counts the whole line, however it was chunked.
    const split = new LineSplitter(limit);
    split.push(Buffer.from('x'.repeat(limit - 1)));
    assert.throws(() => split.push(Buffer.from('xx\n')), isTooLarge);
  });

  test('an endless line throws TOO_LARGE at the limit and never buffers more than the limit', () => {
    const limit = MAX_LINE_BYTES;
    const splitter = new LineSplitter();
    const chunk = Buffer.alloc(1000, 0x61);
    let fed = 0;
    let thrown: unknown;
    while (fed < 10 * limit) {
      try {
        splitter.push(chunk);
      } catch (error) {
        thrown = error;
        break;
      }
      fed += chunk.length;
      assert.ok(splitter.buffered <= limit, `buffered ${splitter.buffered} bytes with a ${limit}-byte limit`);
    }
    assert.ok(isTooLarge(thrown));
    assert.equal(fed, Math.floor(limit / chunk.length) * chunk.length, 'the cut came with the first chunk past the limit');
    assert.ok(splitter.buffered <= limit, `still holds ${splitter.buffered} bytes after the cut`);
    assert.equal((thrown as ProtocolError).drop, true);
  });

  test('lines before an over-long one in the same chunk are yielded; TOO_LARGE follows, and stays', () => {
    const splitter = new LineSplitter(8);
    assert.deepEqual(text(splitter.push(Buffer.from('a\nbb\n123456789'))), ['a', 'bb']);
    assert.throws(() => splitter.push(Buffer.from('\nc\n')), isTooLarge);
    assert.throws(() => splitter.push(Buffer.from('d\n')), isTooLarge, 'the framing is lost after an over-long line');
    const completed = new LineSplitter(8);
    assert.deepEqual(text(completed.push(Buffer.from('a\n123456789\nb\n'))), ['a']);
    assert.throws(() => completed.push(Buffer.alloc(0)), isTooLarge);
  });

  test('a huge single chunk without a newline is refused without being kept', () => {
    const splitter = new LineSplitter(1024);
    assert.throws(() => splitter.push(Buffer.alloc(1 << 20, 0x61)), isTooLarge);
    assert.ok(splitter.buffered <= 1024);
  });

  test('encoded frames cut at random places come back whole (property)', () => {
    const frames = loadSpec().messages.filter((m) => m.transport === 'tcp' && m.direction === 'reply');
    const stream = fc.array(fc.oneof(...frames.map((m) => validMessages(m))), { minLength: 1, maxLength: 6 });
    check(fc.property(stream, fc.array(fc.nat(), { maxLength: 12 }), (messages, cuts) => {
      const bytes = Buffer.from(messages.map((m) => encodeLine(m as never)).join(''));
      const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      const splitter = new LineSplitter();
      const lines: Buffer[] = [];
      let from = 0;
      for (const cut of [...at, bytes.length]) {
        lines.push(...splitter.push(bytes.subarray(from, cut)));
        from = cut;
      }
      assert.equal(splitter.buffered, 0);
      assert.deepEqual(lines.map((l) => decodeTcpFrame(l)), messages);
    }), 200);
  });
});

function isTooLarge(error: unknown): boolean {
  return error instanceof ProtocolError && error.code === 'TOO_LARGE' && /over the \d+-byte limit/.test(error.reason);
}
