// Over 100,000 generated TCP lines (fast-check, seeded: FC_SEED=<n> reproduces, FC_RUNS=<k> scales)
// through LineSplitter and both TCP decoders. Lines are valid transfer messages, the same mutated
// (fields dropped, swapped for hostile values, odd keys, duplicate keys, truncation, stray bytes,
// nesting) and random bytes, cut into random chunks. Whatever arrives, the splitter yields exactly
// the lines that were sent or a TOO_LARGE ProtocolError at the first over-long line, and each decoder
// returns a message obeying the brief's rules or throws a ProtocolError whose code fits the bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeTcpFrame, decodeTcpRequest, LineSplitter, MAX_LINE_BYTES, ProtocolError, type ProtocolErrorCode } from '../../src/protocol/index.js';
import { check, directionOf, typedMessages, validMessages } from '../spec/spec-kit.js';
import { report } from './report.js';

const GARBAGE_CODES: ReadonlySet<ProtocolErrorCode> = new Set(['TOO_LARGE', 'NOT_UTF8', 'NOT_JSON', 'NOT_OBJECT']);
const MESSAGE_CODES: ReadonlySet<ProtocolErrorCode> = new Set(['UNKNOWN_TYPE', 'BAD_RQ', 'INVALID']);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

let linesDecoded = 0;
const started = performance.now();

// ——— generators ———

const tcpMessages = typedMessages().filter((m) => directionOf(m).startsWith('tcp'));
const validLine = fc.oneof(...tcpMessages.map((m) => validMessages(m))).map((message) => JSON.stringify(message));

/** JSON fragments that parse to values a careless decoder mishandles. */
const HOSTILE_VALUES = [
  '1e309', '-1e309', '-0', '0.5', '-1', '2147483648', '9007199254740993', 'null', 'true', '""', '"\\u0000"', '"..\\/..\\/etc\\/passwd"',
  '"a\\nb"', '"\\ud800"', '"\\u202egnp.exe"', `"${'x'.repeat(256)}"`, `"${'é'.repeat(201)}"`, '[]', '{}', `${'['.repeat(300)}${']'.repeat(300)}`,
  '{"__proto__":{"polluted":1}}', '"base64"', '"BASE64"', `"${'A'.repeat(64)}"`, `"${'a'.repeat(64)}"`,
];
const ODD_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', '', 'TYPE', 'rq\u0000', 'encoding', 'fromChunk', 'extra'];

/** One valid line, changed as an attacker or a broken peer would. */
const mutatedLine = fc.tuple(validLine, fc.nat(), fc.constantFrom(...HOSTILE_VALUES), fc.constantFrom(...ODD_KEYS), fc.integer({ min: 0, max: 6 }), fc.uint8Array({ minLength: 1, maxLength: 4 }))
  .map(([line, at, value, key, how, bytes]): Buffer => {
    const fields = Object.entries(JSON.parse(line) as Record<string, unknown>).map(([k, v]) => [JSON.stringify(k), JSON.stringify(v)] as [string, string]);
    const i = at % fields.length;
    switch (how) {
      case 0: fields[i]![1] = value; break; // a field swapped for a hostile value
      case 1: fields.splice(i, 1); break; // a field dropped
      case 2: fields.push([JSON.stringify(key), value]); break; // an odd key added
      case 3: fields.push([fields[i]![0], value]); break; // a key repeated: JSON.parse keeps the last
      case 4: return Buffer.from(line).subarray(0, at % (line.length + 1)); // truncated
      case 5: { // stray bytes spliced in (may break UTF-8)
        const b = Buffer.from(line);
        const cut = at % (b.length + 1);
        return Buffer.concat([b.subarray(0, cut), Buffer.from(bytes).map((x) => (x === 0x0a ? 0x20 : x)), b.subarray(cut)]);
      }
      case 6: return Buffer.from(`{"type":${fields.find(([k]) => k === '"type"')?.[1] ?? '"FILE"'},"rq":1,"wrap":${'['.repeat(at % 900)}${line}${']'.repeat(at % 900)}}`);
    }
    return Buffer.from(`{${fields.map(([k, v]) => `${k}:${v}`).join(',')}}`);
  });

/** Random bytes without newlines (a newline would make it two lines, and the stream test covers that). */
const randomLine = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b.map((x) => (x === 0x0a ? 0x0d : x))));

/** Now and then a line over the decoders' 16 KiB limit. */
const longLine = fc.integer({ min: MAX_LINE_BYTES - 2, max: MAX_LINE_BYTES + 40 }).map((n) => Buffer.from(`{"type":"FILE","rq":1,"text":"${'x'.repeat(n)}"}`));

const anyLine = fc.oneof({ weight: 3, arbitrary: validLine.map((l) => Buffer.from(l)) }, { weight: 5, arbitrary: mutatedLine }, { weight: 2, arbitrary: randomLine }, { weight: 1, arbitrary: fc.noShrink(longLine) });

// ——— the rules a decoded message must obey (written from the brief, not from the schemas) ———

const FILE_NAME_FORBIDDEN = /[/\\\p{Cc}]/u;
const codePoints = (s: string) => [...s].length;
const isInt = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max; // -0 is 0: JSON.stringify writes it back as 0

function assertFileName(v: unknown, nfc: boolean): void {
  assert.ok(typeof v === 'string' && codePoints(v) >= 1 && codePoints(v) <= 255 && !FILE_NAME_FORBIDDEN.test(v) && v !== '.' && v !== '..', `file ${JSON.stringify(v)}`);
  if (nfc) assert.equal(v, v.normalize('NFC'));
}

function assertOnlyKeys(m: object, allowed: string[]): void {
  for (const key of Object.keys(m)) assert.ok(allowed.includes(key), `unexpected field ${JSON.stringify(key)}`);
  assert.equal(Object.getPrototypeOf(m), Object.prototype);
}

const PEER_NAME = /^[A-Za-z0-9._-]{1,32}$/;
const NONCE = /^[0-9a-f]{32,64}$/;

function assertRequest(m: Record<string, unknown>): void {
  if (m.type === 'RELAY') {
    // Issue 14: to a relay's relayPort, naming the holder to be joined to.
    assertOnlyKeys(m, ['type', 'rq', 'name']);
    assert.ok(isInt(m.rq, 0, 2 ** 31 - 1), 'rq');
    assert.ok(typeof m.name === 'string' && PEER_NAME.test(m.name), 'name');
    return;
  }
  assert.equal(m.type, 'DOWNLOAD');
  assertOnlyKeys(m, ['type', 'rq', 'file', 'fromChunk', 'count']);
  assert.ok(isInt(m.rq, 0, 2 ** 31 - 1), 'rq');
  assertFileName(m.file, true);
  if ('fromChunk' in m) assert.ok(isInt(m.fromChunk, 1, Number.MAX_SAFE_INTEGER), 'fromChunk');
  if ('count' in m) assert.ok(isInt(m.count, 1, Number.MAX_SAFE_INTEGER), 'count');
}

function assertFrame(m: Record<string, unknown>): void {
  if (m.type === 'DOWNLOAD-ERROR') {
    assertOnlyKeys(m, ['type', 'rq', 'reason']);
    assert.ok(m.rq === null || isInt(m.rq, 0, 2 ** 31 - 1), 'rq');
    assert.ok(typeof m.reason === 'string' && m.reason.length > 0, 'reason');
    return;
  }
  if (m.type === 'PIECE') {
    // Issue 13: sent before a ranged reply's piece, with the hashes that prove it.
    assertOnlyKeys(m, ['type', 'rq', 'file', 'piece', 'offset', 'proof']);
    assert.ok(isInt(m.rq, 0, 2 ** 31 - 1), 'rq');
    assertFileName(m.file, false);
    assert.ok(isInt(m.piece, 0, Number.MAX_SAFE_INTEGER) && isInt(m.offset, 0, Number.MAX_SAFE_INTEGER), 'piece and offset');
    assert.ok(Array.isArray(m.proof) && m.proof.length <= 64 && m.proof.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h)), 'proof');
    return;
  }
  // Issue 14: the greetings of callbacks and relays.
  if (m.type === 'CONNECTED-BACK' || m.type === 'RELAY-READY' || m.type === 'RELAY-DENIED') {
    assertOnlyKeys(m, m.type === 'CONNECTED-BACK' ? ['type', 'rq', 'name', 'nonce'] : m.type === 'RELAY-READY' ? ['type', 'rq', 'name'] : ['type', 'rq', 'reason']);
    assert.ok(isInt(m.rq, 0, 2 ** 31 - 1), 'rq');
    if (m.type !== 'RELAY-DENIED') assert.ok(typeof m.name === 'string' && PEER_NAME.test(m.name), 'name');
    if (m.type === 'CONNECTED-BACK') assert.ok(typeof m.nonce === 'string' && NONCE.test(m.nonce), 'nonce');
    if (m.type === 'RELAY-DENIED') assert.ok(typeof m.reason === 'string' && m.reason.length > 0 && codePoints(m.reason) <= 600, 'reason');
    return;
  }
  assert.ok(m.type === 'FILE' || m.type === 'FILE-END', `type ${String(m.type)}`);
  assertOnlyKeys(m, m.type === 'FILE' ? ['type', 'rq', 'file', 'chunk', 'text', 'encoding'] : ['type', 'rq', 'file', 'chunk', 'text', 'encoding', 'size', 'sha256']);
  assert.ok(isInt(m.rq, 0, 2 ** 31 - 1), 'rq');
  assertFileName(m.file, false);
  assert.ok(isInt(m.chunk, 1, Number.MAX_SAFE_INTEGER), 'chunk');
  assert.ok(typeof m.text === 'string' && codePoints(m.text) <= 200, 'text');
  if ('encoding' in m) assert.equal(m.encoding, 'base64');
  if (m.type === 'FILE-END') {
    assert.ok(isInt(m.size, 0, Number.MAX_SAFE_INTEGER), 'size');
    assert.ok(typeof m.sha256 === 'string' && /^[0-9a-f]{64}$/.test(m.sha256), 'sha256');
  }
}

/** What the bytes are before any schema: the garbage code they deserve, or the parsed value. */
function garbageCode(bytes: Buffer): ProtocolErrorCode | { value: unknown } {
  if (bytes.length > MAX_LINE_BYTES) return 'TOO_LARGE';
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return 'NOT_UTF8';
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'NOT_JSON';
  }
  return value === null || typeof value !== 'object' || Array.isArray(value) ? 'NOT_OBJECT' : { value };
}

/** One line through both decoders: a message obeying the rules, or a ProtocolError that fits the bytes. */
function decodeBoth(line: Buffer): void {
  linesDecoded++;
  const expected = garbageCode(line);
  for (const [decode, obey] of [[decodeTcpRequest, assertRequest], [decodeTcpFrame, assertFrame]] as const) {
    let message: Record<string, unknown>;
    try {
      message = decode(line) as unknown as Record<string, unknown>;
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw new Error(`${decode.name} threw ${String(error)}, not a ProtocolError`);
      assert.ok(typeof error.reason === 'string' && error.reason.length > 0, 'a reason');
      if (typeof expected === 'string') assert.equal(error.code, expected, error.reason);
      else assert.ok(MESSAGE_CODES.has(error.code), `an object got ${error.code}: ${error.reason}`);
      assert.equal(error.drop, GARBAGE_CODES.has(error.code));
      continue;
    }
    assert.ok(typeof expected !== 'string', `${decode.name} accepted what is ${String(expected)}`);
    obey(message);
  }
}

test('TCP lines: every generated line decodes to a message obeying the brief or a fitting ProtocolError (both decoders)', () => {
  check(fc.property(anyLine, (line) => decodeBoth(line)), 65_000);
});

test('TCP streams: LineSplitter yields exactly the lines sent, however cut, or TOO_LARGE at the first over-long one', () => {
  const stream = fc.tuple(
    fc.array(anyLine, { minLength: 1, maxLength: 8 }),
    fc.array(fc.nat(), { maxLength: 10 }),
    fc.integer({ min: 32, max: 20_000 }),
  );
  check(fc.property(stream, ([lines, cuts, limit]) => {
    // Lines carry no newline of their own (generators strip them); a lone \r is just a byte.
    const bytes = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    const chunks = [0, ...points, bytes.length].slice(1).map((end, i, ends) => bytes.subarray(i === 0 ? 0 : ends[i - 1]!, end));
    const firstTooLong = lines.findIndex((l) => l.length > limit);
    const splitter = new LineSplitter(limit);
    const got: Buffer[] = [];
    let thrown: unknown;
    try {
      for (const chunk of chunks) got.push(...splitter.push(chunk));
      // The lines before an over-long one come first; its TOO_LARGE may wait for the next push.
      splitter.push(Buffer.alloc(0));
    } catch (error) {
      thrown = error;
    }
    if (firstTooLong === -1) {
      assert.equal(thrown, undefined);
      assert.deepEqual(got.map((b) => b.toString('hex')), lines.map((b) => b.toString('hex')));
      assert.equal(splitter.buffered, 0);
    } else {
      assert.ok(thrown instanceof ProtocolError && thrown.code === 'TOO_LARGE', `expected TOO_LARGE, got ${String(thrown)}`);
      // Every line before it, and nothing after it.
      const before = lines.slice(0, firstTooLong).map((b) => b.toString('hex'));
      assert.deepEqual(got.map((b) => b.toString('hex')), before);
    }
    assert.ok(splitter.buffered <= limit, 'never buffers more than the limit');
    for (const line of got) decodeBoth(line);
  }), 15_000);
});

test('TCP fuzzing reached 100,000 lines', { skip: process.env.FC_RUNS !== undefined && Number(process.env.FC_RUNS) < 1 ? 'FC_RUNS < 1' : false }, () => {
  report({
    scenario: 'TCP line fuzz (fast-check)', load: `${linesDecoded} lines, FC_SEED ${process.env.FC_SEED ?? 'default'}`,
    faults: 'valid, mutated, random and over-long lines, cut into random chunks', attempted: linesDecoded, completed: linesDecoded, lost: 0,
    ms: performance.now() - started, notes: 'each a rule-abiding message or a fitting ProtocolError, through LineSplitter and both TCP decoders',
  });
  assert.ok(linesDecoded >= 100_000, `${linesDecoded} lines`);
});
