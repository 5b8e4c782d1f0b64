// The frame codec on its own: any file round-trips through encoder and decoder whatever the block
// and packet boundaries, every frame it writes is one the schema accepts, and the decoder's fast
// path agrees with the protocol edge (JSON.parse + validator) on every line, mutated ones included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { decodeTcpFrame } from '../../src/protocol/index.js';
import { decodeBase64Into } from '../../src/transfer/codec/base64.js';
import { FrameDecoder } from '../../src/transfer/codec/frame-decoder.js';
import { FrameEncoder } from '../../src/transfer/codec/frame-encoder.js';
import { PieceDecoder } from '../../src/transfer/codec/piece-decoder.js';
import { FrameRejected, parseCanonicalFile, parseFrameSlow, type FastFrameFields } from '../../src/transfer/codec/frame-parser.js';
import { TextKernel } from '../../src/transfer/simd/text-kernel.js';
import { canonicalPrefix, viewOf, type ChunkEncoding } from '../../src/transfer/codec/layout.js';
import { countCodePoints, incompleteTailLength, Utf8StreamCheck } from '../../src/transfer/codec/utf8.js';
import type { HolderFailure } from '../../src/transfer/errors.js';
import { rangedReply, sha256 } from './helpers.js';

const SEED = 20_240_611;
const RQ = 77;
const FILE = 'a "quoted" file é.txt';

/** Characters that stress the codec: escapes, every UTF-8 length, astral pairs, combining marks. */
const trickyChar = fc.constantFrom(
  'a', 'Z', ' ', '"', '\\', '/', '\n', '\r', '\t', '\b', '\f', '\u0000', '\u001f', '\u007f',
  'é', 'ß', '\u0301', '\u00a0', '€', '日', '\u2028', '\ufeff', '\uffff', '😀', '𝄞', '\u{10ffff}',
);
const textBytes = fc.oneof(
  fc.array(trickyChar, { maxLength: 900 }).map((chars) => Buffer.from(chars.join(''))),
  fc.string({ unit: 'binary', maxLength: 700 }).map((text) => Buffer.from(text)),
  fc.string({ unit: 'grapheme-ascii', maxLength: 700 }).map((text) => Buffer.from(text)),
);
const anyBytes = fc.oneof(textBytes, fc.uint8Array({ maxLength: 1500 }).map((bytes) => Buffer.from(bytes)));

/** Splits bytes at the given cut points (sorted, deduplicated, in range). */
function split(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (data.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    pieces.push(data.subarray(from, point));
    from = point;
  }
  pieces.push(data.subarray(from));
  return pieces;
}

function encode(data: Buffer, blockCuts: number[], fromChunk = 1): { wire: Buffer; encoding: ChunkEncoding } {
  const encoding: ChunkEncoding = isUtf8(data) ? 'utf8' : 'base64';
  const encoder = new FrameEncoder({ rq: RQ, file: FILE, encoding, fromChunk });
  const batches: Buffer[] = [];
  for (const block of split(data, blockCuts)) batches.push(...encoder.push(block));
  batches.push(...encoder.end(data.length, sha256(data)));
  return { wire: Buffer.concat(batches), encoding };
}

test('any file round-trips through encoder and decoder, whatever the block and packet boundaries', () => {
  fc.assert(
    fc.property(anyBytes, fc.array(fc.nat(), { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 12 }), (data, blockCuts, packetCuts) => {
      const { wire, encoding } = encode(data, blockCuts);
      const decoder = new FrameDecoder({ rq: RQ, file: FILE, fromChunk: 1 });
      for (const packet of split(wire, packetCuts)) decoder.push(packet);
      assert.deepEqual(decoder.takeOutput(), data);
      assert.equal(decoder.encoding, encoding);
      const chunkBytes = encoding === 'base64' ? data.length / 150 : countCodePoints(data) / 200;
      assert.deepEqual(decoder.fileEnd, { size: data.length, sha256: sha256(data), chunk: Math.max(1, Math.ceil(chunkBytes)) });
      assert.equal(decoder.slowFrames, 1, 'only FILE-END leaves the fast path');
    }),
    { seed: SEED, numRuns: 400 },
  );
});

test('every frame the encoder writes is accepted by the schema, FILE exactly 200 characters', () => {
  fc.assert(
    fc.property(anyBytes, fc.array(fc.nat(), { maxLength: 4 }), (data, blockCuts) => {
      const { wire, encoding } = encode(data, blockCuts);
      const lines = wire.toString('utf8').split('\n').slice(0, -1);
      lines.forEach((line, index) => {
        const frame = decodeTcpFrame(Buffer.from(line));
        if (frame.type === 'DOWNLOAD-ERROR') assert.fail(`the encoder wrote ${line}`);
        assert.equal(frame.type, index === lines.length - 1 ? 'FILE-END' : 'FILE');
        assert.equal(line, JSON.stringify(frame), 'frames are canonical: exactly what JSON.stringify writes');
        assert.equal(frame.chunk, index + 1);
        assert.equal(frame.encoding, encoding === 'base64' ? 'base64' : undefined);
        if (frame.type === 'FILE') assert.equal([...frame.text].length, 200);
      });
    }),
    { seed: SEED, numRuns: 300 },
  );
});

/** The encoder's lines for data pushed in the blocks the cuts make (tiny batches or not) are `expected`. */
function assertFramedAs(data: Buffer, encoding: ChunkEncoding, blockCuts: number[], smallBatches: boolean, expected: string[]): void {
  const encoder = new FrameEncoder({ rq: RQ, file: FILE, encoding, ...(smallBatches ? { batchBytes: 1 } : {}) });
  const batches: Buffer[] = [];
  for (const block of split(data, blockCuts)) batches.push(...encoder.push(block));
  batches.push(...encoder.end(data.length, sha256(data)));
  const lines = Buffer.concat(batches).toString('utf8').split('\n').slice(0, -1);
  assert.equal(lines.length, expected.length);
  lines.forEach((line, i) => assert.equal(line, expected[i], `frame ${i + 1}`));
}

test('text larger than the kernel takes at once is framed exactly as JSON.stringify frames it, whatever the blocks and batches', () => {
  fc.assert(
    fc.property(fc.array(trickyChar, { minLength: 1, maxLength: 64 }), fc.array(fc.nat(), { maxLength: 4 }), fc.boolean(), (alphabet, blockCuts, smallBatches) => {
      // ~600 KB: more than one slice of the kernel's input, and many batches.
      const characters = Array.from({ length: 200_000 }, (_, i) => alphabet[(i * 31 + (i >> 7)) % alphabet.length]!);
      const data = Buffer.from(characters.join(''));
      const codePoints = [...data.toString('utf8')];
      const expected: string[] = [];
      for (let at = 0, chunk = 1; at < codePoints.length; at += 200, chunk++) {
        const text = codePoints.slice(at, at + 200).join('');
        expected.push(JSON.stringify(at + 200 < codePoints.length ? { type: 'FILE', rq: RQ, file: FILE, chunk, text } : { type: 'FILE-END', rq: RQ, file: FILE, chunk, text, size: data.length, sha256: sha256(data) }));
      }
      assertFramedAs(data, 'utf8', blockCuts, smallBatches, expected);
    }),
    { seed: SEED, numRuns: 12 },
  );
});

test('binary data larger than the kernel takes at once is framed exactly as JSON.stringify frames its base64, whatever the blocks and batches', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 300_000, max: 700_000 }), fc.array(fc.nat(), { maxLength: 4 }), fc.boolean(), (seed, size, blockCuts, smallBatches) => {
      const data = Buffer.from(Array.from({ length: size }, (_, i) => (i === 0 ? 0xff : (Math.imul(i, 2_654_435_761) ^ seed) >>> 24)));
      const expected: string[] = [];
      for (let at = 0, chunk = 1; at === 0 || at < data.length; at += 150, chunk++) {
        const text = data.subarray(at, at + 150).toString('base64');
        expected.push(JSON.stringify(at + 150 < data.length ? { type: 'FILE', rq: RQ, file: FILE, chunk, text, encoding: 'base64' } : { type: 'FILE-END', rq: RQ, file: FILE, chunk, text, encoding: 'base64', size: data.length, sha256: sha256(data) }));
      }
      assertFramedAs(data, 'base64', blockCuts, smallBatches, expected);
    }),
    { seed: SEED, numRuns: 12 },
  );
});

test('fromChunk: the encoder skips earlier chunks and still ends with the whole file size and hash', () => {
  fc.assert(
    fc.property(anyBytes, fc.nat(), fc.array(fc.nat(), { maxLength: 4 }), (data, pick, blockCuts) => {
      const whole = encode(data, []).wire.toString('utf8').split('\n').slice(0, -1);
      const fromChunk = 1 + (pick % whole.length);
      const resumed = encode(data, blockCuts, fromChunk).wire.toString('utf8').split('\n').slice(0, -1);
      assert.deepEqual(resumed, whole.slice(fromChunk - 1));
    }),
    { seed: SEED, numRuns: 200 },
  );
});

test('fromChunk past the last chunk is refused by the encoder', () => {
  const encoder = new FrameEncoder({ rq: 1, file: 'x', encoding: 'utf8', fromChunk: 3 });
  encoder.push(Buffer.from('a'.repeat(250)));
  assert.throws(() => encoder.end(250, sha256(Buffer.from('a'.repeat(250)))), { code: 'FROM_CHUNK_PAST_END', message: /fromChunk 3 is past the last chunk \(2\)/ });
});

/** Lines to hold the fast path to: canonical FILE frames, then the same with damage done to them. */
const longFile = fc.oneof(
  fc.array(trickyChar, { minLength: 201, maxLength: 700 }).map((chars) => Buffer.from(chars.join(''))),
  fc.string({ unit: 'grapheme-ascii', minLength: 201, maxLength: 500 }).map((text) => Buffer.from(text)),
  fc.uint8Array({ minLength: 151, maxLength: 600 }).map((bytes) => Buffer.from([0xff, ...bytes])),
);
const frameLine = fc.tuple(longFile, fc.nat()).map(([data, pick]) => {
  const lines = encode(data, []).wire.toString('utf8').split('\n').slice(0, -1);
  return Buffer.from(lines[pick % (lines.length - 1)]!); // a FILE frame, never the FILE-END
});
const damage = fc.oneof(
  fc.record({ at: fc.nat(), byte: fc.constantFrom(0x22, 0x5c, 0x00, 0x0a, 0x1f, 0x20, 0x2c, 0x30, 0x39, 0x7d, 0x80, 0xbf, 0xc3, 0xf0, 0xff, 0x3d, 0x2b, 0x2d, 0x41, 0x61, 0x35) }).map((d) => ({ ...d, kind: 'replace' as const })),
  fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }).map((d) => ({ ...d, kind: 'insert' as const })),
  fc.record({ at: fc.nat(), byte: fc.constant(0) }).map((d) => ({ ...d, kind: 'delete' as const })),
);

function applyDamage(line: Buffer, changes: Array<{ kind: 'replace' | 'insert' | 'delete'; at: number; byte: number }>): Buffer {
  let bytes = [...line];
  for (const change of changes) {
    const at = change.at % (bytes.length + 1);
    if (change.kind === 'replace' && at < bytes.length) bytes[at] = change.byte;
    if (change.kind === 'insert') bytes.splice(at, 0, change.byte);
    if (change.kind === 'delete') bytes.splice(at, 1);
    bytes = bytes.slice(0);
  }
  return Buffer.from(bytes);
}

const PREFIX = canonicalPrefix(RQ, FILE);

const kernel = new TextKernel();

/** Copies bytes into the SIMD kernel's memory at `at` (the fast path reads nothing else). */
function inKernel(bytes: Buffer, at: number, room = bytes.length): Buffer {
  const there = kernel.memory.subarray(kernel.firstFree + at, kernel.firstFree + at + room);
  bytes.copy(there);
  return there;
}

/**
 * The fast path over the line followed by a newline and more bytes, as in a socket block. It finds
 * the line's end itself: what it read is `line` up to that end (a damaged line may end early). The
 * line and the output sit at odd addresses of the kernel's memory.
 */
function fast(line: Buffer): { chunk: number; encoding: ChunkEncoding; bytes: Buffer; read: Buffer } | null {
  const block = inKernel(Buffer.concat([line, Buffer.from('\n{"type":"FILE"')]), 3);
  const out = inKernel(Buffer.alloc(0), 4099, block.length + 24);
  const fields: FastFrameFields = { chunk: 0, encoding: 'utf8', lineEnd: 0, utf8Unchecked: false };
  const end = parseCanonicalFile(block, viewOf(block), 0, block.length, PREFIX, out, viewOf(out), 4, fields, kernel);
  if (end < 0) return null;
  // The UTF-8 check the fast path leaves to its caller, made as a caller makes it.
  if (fields.utf8Unchecked && !isUtf8(out.subarray(4, end))) return null;
  assert.equal(block[fields.lineEnd], 0x0a, 'the fast path ended a line where there is no newline');
  assert.equal(block.subarray(0, fields.lineEnd).indexOf(0x0a), -1, 'the fast path read past a newline');
  return { chunk: fields.chunk, encoding: fields.encoding, bytes: Buffer.from(out.subarray(4, end)), read: Buffer.from(block.subarray(0, fields.lineEnd)) };
}

function slow(line: Buffer): { type: string; rq: number; file: string; chunk: number; encoding: ChunkEncoding; bytes: Buffer } | string {
  const out = Buffer.alloc(line.length + 8);
  try {
    const frame = parseFrameSlow(line, out, 4);
    if (frame.type === 'PIECE') return `a PIECE frame for piece ${frame.piece}`;
    return { type: frame.type, rq: frame.rq, file: frame.file, chunk: frame.chunk, encoding: frame.encoding, bytes: out.subarray(4, frame.dataEnd) };
  } catch (error) {
    if (error instanceof FrameRejected) return error.message;
    throw error;
  }
}

test('fast path ≡ slow path: the fast path never accepts a line the schema refuses, and reads the same data', () => {
  let fastAccepted = 0;
  let damagedAccepted = 0;
  fc.assert(
    fc.property(frameLine, fc.array(damage, { maxLength: 3 }), (line, changes) => {
      const damaged = applyDamage(line, changes);
      const quick = fast(damaged);
      if (changes.length === 0) assert.notEqual(quick, null, `a canonical FILE frame left the fast path: ${damaged}`);
      if (quick === null) return;
      fastAccepted++;
      if (!damaged.equals(line)) damagedAccepted++;
      const { read, ...decoded } = quick;
      const careful = slow(read);
      assert.notEqual(typeof careful, 'string', `fast path accepted a line the slow path refuses (${careful}): ${read}`);
      assert.deepEqual(careful, { type: 'FILE', rq: RQ, file: FILE, ...decoded });
    }),
    { seed: SEED, numRuns: 4000 },
  );
  assert.ok(fastAccepted > 1000 && damagedAccepted > 100, `the fast path took ${fastAccepted} lines, ${damagedAccepted} of them damaged: too few to prove anything`);
});

test('fast path ≡ slow path on FILE frames JSON.stringify builds from arbitrary text', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', minLength: 195, maxLength: 205 }), fc.nat({ max: 2 ** 31 }), fc.boolean(), (text, chunk, base64) => {
      const frame = { type: 'FILE', rq: RQ, file: FILE, chunk, text, ...(base64 ? { encoding: 'base64' } : {}) };
      const line = Buffer.from(JSON.stringify(frame));
      const quick = fast(line);
      if (quick === null) return;
      const { read, ...decoded } = quick;
      assert.deepEqual(read, line);
      const careful = slow(line);
      assert.notEqual(typeof careful, 'string', `fast path accepted a line the slow path refuses (${careful}): ${line}`);
      assert.deepEqual(careful, { type: 'FILE', rq: RQ, file: FILE, ...decoded });
    }),
    { seed: SEED, numRuns: 2000 },
  );
});

test('the decoder holds the holder to rq, file, chunk numbering and one encoding', () => {
  const data = Buffer.from('x'.repeat(450));
  const lines = encode(data, []).wire.toString('utf8').split('\n').slice(0, -1).map((line) => `${line}\n`);
  const decoderFor = (overrides: { rq?: number; file?: string; fromChunk?: number; encoding?: ChunkEncoding } = {}) =>
    new FrameDecoder({ rq: RQ, file: FILE, fromChunk: 1, ...overrides });
  const feed = (decoder: FrameDecoder, ...sent: string[]) => () => decoder.push(Buffer.from(sent.join('')));

  assert.throws(feed(decoderFor({ rq: RQ + 1 }), lines[0]!), (error: HolderFailure) => error.code === 'BAD_FRAME' && /rq 77 does not answer DOWNLOAD rq 78/.test(error.message));
  assert.throws(feed(decoderFor({ file: 'other.txt' }), lines[0]!), /file "a \\"quoted\\" file é.txt" is not the file asked for/);
  assert.throws(feed(decoderFor(), lines[1]!), /expected chunk 1/);
  assert.throws(feed(decoderFor(), lines[0]!, lines[2]!), /expected chunk 2/);
  assert.throws(feed(decoderFor({ fromChunk: 2, encoding: 'base64' }), lines[1]!), (error: HolderFailure) => /encoding utf8 differs/.test(error.message) && error.discardPartial);
  assert.throws(feed(decoderFor(), 'x'.repeat(20_000)), /over the 16384-byte limit/);
  assert.throws(feed(decoderFor(), 'not json\n'), (error: HolderFailure) => error.code === 'BAD_FRAME' && /not JSON/.test(error.message));
  assert.throws(
    feed(decoderFor(), `${JSON.stringify({ type: 'DOWNLOAD-ERROR', rq: RQ, reason: 'busy, try later' })}\n`),
    (error: HolderFailure) => error.code === 'REFUSED' && /busy, try later/.test(error.message),
  );
  const lone = JSON.stringify({ type: 'FILE-END', rq: RQ, file: FILE, chunk: 1, text: 'a\ud800', size: 2, sha256: '0'.repeat(64) });
  assert.throws(feed(decoderFor(), `${lone}\n`), /lone surrogate/);
  const loose = JSON.stringify({ type: 'FILE-END', rq: RQ, file: FILE, chunk: 1, text: 'QQ-_', encoding: 'base64', size: 3, sha256: '0'.repeat(64) });
  assert.throws(feed(decoderFor(), `${loose}\n`), /not base64/);

  const decoder = decoderFor();
  decoder.push(Buffer.from(`${lines.join('')}anything after FILE-END is ignored\n`));
  assert.deepEqual(decoder.takeOutput(), data);
});

test('base64 decoding is strict: alphabet, padding only at the end, zero padding bits', () => {
  const out = Buffer.alloc(300);
  const decode = (text: string) => {
    const src = Buffer.from(text, 'latin1');
    return decodeBase64Into(src, viewOf(src), 0, text.length, out, viewOf(out), 0);
  };
  assert.equal(decode('QUJD'), 3);
  assert.equal(decode('QUI='), 2);
  assert.equal(decode('QQ=='), 1);
  assert.equal(decode(''), 0);
  for (const bad of ['QUJ', 'QU=D', 'Q===', 'QR==', 'QUJ=', 'QU-_', 'QU\nD', 'QUJD====', '=QUJ', 'QUé=']) assert.equal(decode(bad), -1, bad);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      const encoded = Buffer.from(Buffer.from(bytes).toString('base64'), 'latin1');
      const decoded = Buffer.alloc(bytes.length);
      assert.equal(decodeBase64Into(encoded, viewOf(encoded), 0, encoded.length, decoded, viewOf(decoded), 0), bytes.length);
      assert.deepEqual(new Uint8Array(decoded), bytes);
    }),
    { seed: SEED, numRuns: 300 },
  );
});

test('UTF-8 checked block by block agrees with isUtf8 over the whole, wherever the blocks are cut', () => {
  fc.assert(
    fc.property(anyBytes, fc.array(fc.nat(), { maxLength: 8 }), (data, cuts) => {
      const check = new Utf8StreamCheck();
      let valid = true;
      for (const block of split(data, cuts)) valid = check.push(block) && valid;
      assert.equal(valid && check.end(), isUtf8(data));
    }),
    { seed: SEED, numRuns: 1000 },
  );
  assert.equal(incompleteTailLength(Buffer.from('a😀').subarray(0, 3)), 2);
  assert.equal(incompleteTailLength(Buffer.from('a😀')), 0);
  assert.equal(incompleteTailLength(Buffer.from('é').subarray(0, 1)), 1);
});

test('a text too long for a frame is refused as BAD_FRAME wherever it lands in the output buffer', () => {
  // The fast path decodes a text while it scans it (up to 1,200 bytes) before it knows the text is
  // too long; at any fill level of the decoder's output there must be room for that.
  const frame = (chunk: number, text: string) => `${JSON.stringify({ type: 'FILE', rq: RQ, file: FILE, chunk, text })}\n`;
  for (const valid of [5398, 5400, 5401, 5402, 5404]) {
    const decoder = new FrameDecoder({ rq: RQ, file: FILE, fromChunk: 1 });
    decoder.push(Buffer.from(Array.from({ length: valid }, (_, i) => frame(i + 1, 'x'.repeat(200))).join('')));
    assert.equal(decoder.nextChunk, valid + 1);
    assert.throws(
      () => decoder.push(Buffer.from(frame(valid + 1, 'y'.repeat(1100)))),
      (error: HolderFailure) => error.code === 'BAD_FRAME',
      `after ${valid} frames`,
    );
  }
});

test('UTF-8 the fast path leaves to its caller is checked: frame by frame for a whole file, piece by piece for ranges', () => {
  const fileFrame = (chunk: number, text: Buffer) =>
    Buffer.concat([Buffer.from(`{"type":"FILE","rq":${RQ},"file":${JSON.stringify(FILE)},"chunk":${chunk},"text":"`), text, Buffer.from('"}\n')]);
  const a = Buffer.alloc(199, 'a');
  const b = Buffer.alloc(200, 'b');
  const texts = {
    valid: [Buffer.concat([a, Buffer.from('é')]), b],
    // 0xff counts as a character to the fast path, and is no UTF-8 at all.
    invalidByte: [Buffer.concat([a, Buffer.from([0xff])]), b],
    // 日 cut between two frames: the bytes are valid UTF-8 together, each frame's text is not alone.
    splitCharacter: [Buffer.concat([a, Buffer.from('日').subarray(0, 1)]), Buffer.concat([Buffer.from('日').subarray(1), b])],
  };
  const fields: FastFrameFields = { chunk: 0, encoding: 'utf8', lineEnd: 0, utf8Unchecked: false };
  const line = inKernel(fileFrame(1, texts.invalidByte[0]!), 0);
  const out = inKernel(Buffer.alloc(0), 4096, 2000);
  assert.ok(parseCanonicalFile(line, viewOf(line), 0, line.length, PREFIX, out, viewOf(out), 0, fields, kernel) > 0);
  assert.equal(fields.utf8Unchecked, true, 'the fast path took a text with a byte ≥ 0x80 without saying it left UTF-8 to the caller');

  const piece = (pair: Buffer[]) => {
    const decoder = new PieceDecoder({ file: FILE, chunks: 3 });
    decoder.expect(RQ, 0, 0);
    const last = JSON.stringify({ type: 'FILE-END', rq: RQ, file: FILE, chunk: 3, text: 'c', size: 402, sha256: '0'.repeat(64) });
    const proofless = JSON.stringify({ type: 'PIECE', rq: RQ, file: FILE, piece: 0, offset: 0, proof: [] });
    return () => decoder.push(Buffer.concat([Buffer.from(`${proofless}\n`), fileFrame(1, pair[0]!), fileFrame(2, pair[1]!), Buffer.from(`${last}\n`)]));
  };
  const whole = (pair: Buffer[]) => () => new FrameDecoder({ rq: RQ, file: FILE, fromChunk: 1 }).push(Buffer.concat([fileFrame(1, pair[0]!), fileFrame(2, pair[1]!)]));

  const [received] = piece(texts.valid)();
  assert.deepEqual(received!.data, Buffer.concat([...texts.valid, Buffer.from('c')]));
  assert.doesNotThrow(whole(texts.valid));
  for (const [name, pair] of [['invalidByte', texts.invalidByte], ['splitCharacter', texts.splitCharacter]] as const) {
    assert.throws(piece(pair), (error: HolderFailure) => error.code === 'BAD_FRAME' && /UTF-8/.test(error.message), `piece decoder, ${name}`);
    assert.throws(whole(pair), (error: HolderFailure) => error.code === 'BAD_FRAME' && /UTF-8/.test(error.message), `whole-file decoder, ${name}`);
  }
});

test('the SIMD kernel decodes runs of frames exactly as frame-by-frame decoding does, damaged or not', () => {
  // Characters of one UTF-8 length per file, so that pieces of 256 chunks are a fixed number of bytes.
  const byLength: Record<number, string[]> = {
    1: ['a', ' ', '"', '\\', '/', '\n', '\t', '\u0000', '\u001f', '\u007f'],
    2: ['é', 'ß', '\u0301', '\u00a0'],
    3: ['€', '日', '\u2028', '\ufeff'],
    4: ['😀', '𝄞', '\u{10ffff}'],
  };
  // Length 0: bytes that are no UTF-8, sent as base64.
  const file = fc.integer({ min: 0, max: 4 }).chain((length) =>
    fc.tuple(fc.constant(length), fc.array(fc.constantFrom(...(byLength[length] ?? ['-'])), { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 3 * 51_200 })),
  );
  type Outcome = { pieces: Array<{ piece: number; data: string }> } | { whole: string } | { error: string };
  const decodeIn = (wire: Buffer, blockBytes: number, chunks: number, pieces: number): Outcome => {
    const decoder = new PieceDecoder({ file: FILE, chunks });
    decoder.expect(RQ, 0, pieces - 1);
    const received: Array<{ piece: number; data: string }> = [];
    try {
      for (let at = 0; at < wire.length; at += blockBytes) {
        for (const piece of decoder.push(wire.subarray(at, at + blockBytes))) received.push({ piece: piece.piece, data: sha256(piece.data) });
      }
    } catch (error) {
      return { error: (error as Error).message };
    }
    return { pieces: received };
  };
  /** The same through the whole-file decoder, for a course-style reply. */
  const decodeWholeIn = (wire: Buffer, blockBytes: number): Outcome => {
    const decoder = new FrameDecoder({ rq: RQ, file: FILE, fromChunk: 1 });
    const output: Buffer[] = [];
    try {
      for (let at = 0; at < wire.length && !decoder.fileEnd; at += blockBytes) {
        decoder.push(wire.subarray(at, at + blockBytes));
        const taken = decoder.takeOutput();
        output.push(Buffer.from(taken));
        decoder.reuse(taken);
      }
    } catch (error) {
      return { error: (error as Error).message };
    }
    return { whole: `${sha256(Buffer.concat(output))} ${JSON.stringify(decoder.fileEnd)}` };
  };
  // Damage where the layout is: a line's first 80 bytes (prefix, chunk number, text key) or its last 4.
  const lineDamage = fc.record({
    line: fc.nat(),
    fromStart: fc.boolean(),
    offset: fc.nat({ max: 79 }),
    change: damage,
  });
  const damageLines = (wire: Buffer, changes: Array<{ line: number; fromStart: boolean; offset: number; change: { kind: 'replace' | 'insert' | 'delete'; byte: number } }>): Buffer => {
    let damaged = wire;
    for (const { line, fromStart, offset, change } of changes) {
      const starts = [0];
      for (let at = damaged.indexOf(0x0a); at !== -1 && at < damaged.length - 1; at = damaged.indexOf(0x0a, at + 1)) starts.push(at + 1);
      const start = starts[line % starts.length]!;
      const end = damaged.indexOf(0x0a, start);
      const at = fromStart ? start + offset : (end === -1 ? damaged.length : end) - (offset % 4);
      damaged = applyDamage(damaged, [{ ...change, at }]);
    }
    return damaged;
  };
  let damagedRuns = 0;
  fc.assert(
    fc.property(file, fc.array(lineDamage, { maxLength: 2 }), fc.integer({ min: 1_000, max: 70_000 }), ([length, alphabet, count], changes, blockBytes) => {
      const binary = length === 0;
      const data = binary
        ? Buffer.from(Array.from({ length: count }, (_, i) => (i === 0 ? 0xff : (i * 2_654_435_761) >>> 24)))
        : Buffer.from(Array.from({ length: count }, (_, i) => alphabet[(i * 7) % alphabet.length]).join(''));
      const pieceBytes = binary ? 256 * 150 : 256 * 200 * length;
      const pieces = Math.ceil(data.length / pieceBytes);
      const wire = damageLines(rangedReply(data, binary ? 'base64' : 'utf8', pieceBytes, FILE, RQ), changes);
      const chunks = Math.ceil(count / (binary ? 150 : 200));
      // Blocks of 199 bytes never hold a whole FILE frame: every frame goes through decodeLine alone.
      const byFrame = decodeIn(wire, 199, chunks, pieces);
      assert.deepEqual(decodeIn(wire, blockBytes, chunks, pieces), byFrame);
      const whole = damageLines(encode(data, []).wire, changes);
      assert.deepEqual(decodeWholeIn(whole, blockBytes), decodeWholeIn(whole, 199));
      if (changes.length === 0) assert.deepEqual(byFrame, { pieces: Array.from({ length: pieces }, (_, piece) => ({ piece, data: sha256(data.subarray(piece * pieceBytes, (piece + 1) * pieceBytes)) })) });
      else damagedRuns++;
    }),
    { seed: SEED, numRuns: 60 },
  );
  assert.ok(damagedRuns > 20);

  // Every byte value at the edges of the kernel's 16-character blocks of base64, in a run of frames.
  const binary = Buffer.from(Array.from({ length: 600 }, (_, i) => (i === 0 ? 0xff : (i * 2_654_435_761) >>> 24)));
  const frames = encode(binary, []).wire;
  const textStart = frames.indexOf('"text":"') + 8;
  for (const at of [0, 15, 16, 199]) {
    for (let byte = 0; byte < 256; byte++) {
      const changed = Buffer.from(frames);
      changed[textStart + at] = byte;
      assert.deepEqual(decodeWholeIn(changed, 65_536), decodeWholeIn(changed, 199), `byte 0x${byte.toString(16)} at character ${at}`);
    }
  }

  // A chunk number with a leading zero is no canonical frame (JSON has no such number): refused either way.
  const data = Buffer.alloc(3 * 200, 'a');
  const wire = rangedReply(data, 'utf8', data.length, FILE, RQ);
  const zeroed = Buffer.from(wire.toString('latin1').replace('"chunk":2,', '"chunk":02,'), 'latin1');
  const refused = decodeIn(zeroed, 199, 3, 1);
  assert.ok('error' in refused, 'a leading zero was taken frame by frame');
  assert.deepEqual(decodeIn(zeroed, 65_536, 3, 1), refused);
});

test('the whole-file decoder decodes into an output buffer again only once it is given back', () => {
  const data = Buffer.from('x'.repeat(4000));
  const { wire } = encode(data, []);
  const decoder = new FrameDecoder({ rq: RQ, file: FILE, fromChunk: 1 });
  const taken: Buffer[] = [];
  const copies: Buffer[] = [];
  const step = Math.ceil(wire.length / 4);
  for (let at = 0; at < wire.length; at += step) {
    decoder.push(wire.subarray(at, at + step));
    taken.push(decoder.takeOutput());
    copies.push(Buffer.from(taken.at(-1)!));
    if (taken.length === 1) decoder.reuse(taken[0]!);
  }
  assert.equal(taken.length, 4);
  // The first buffer, given back, is decoded into after the one that was already filling.
  assert.equal(taken[2]!.buffer, taken[0]!.buffer, 'a buffer given back was not reused');
  assert.equal(new Set([taken[1]!.buffer, taken[2]!.buffer, taken[3]!.buffer]).size, 3, 'a buffer not given back was decoded into again');
  assert.deepEqual(taken[1], copies[1]);
  assert.deepEqual(Buffer.concat(copies), data);
});
