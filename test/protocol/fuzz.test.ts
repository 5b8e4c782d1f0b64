// Property-based tests of the decode edge (fast-check, seeded: FC_SEED=<n> reproduces, FC_RUNS=<k>
// multiplies the runs). Random bytes, random JSON and mutated valid messages are thrown at every
// decoder. Each must return a message or throw ProtocolError — nothing else — and:
//  - agree with a model of the edge built from the raw schemas compiled at test time (accept exactly
//    what the schema accepts, with the right error code otherwise);
//  - never return a message that breaks the structural facts of the brief, checked by hand here
//    (integer ranges, peer and file name rules, hex lengths, IP literals via node:net);
//  - drop garbage (not UTF-8, not JSON, not an object, over the size) and never drop an object.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import fc from 'fast-check';
import { ProtocolError, validateTcpFrameObject, type ProtocolErrorCode } from '../../src/protocol/index.js';
import {
  DIRECTIONS, check, directionOf, loadSchemas, nfcFileNames, typedMessages, validMessages,
  type Direction, type DirectionName,
} from '../spec/spec-kit.js';

const store = loadSchemas();
const GARBAGE = new Set<ProtocolErrorCode>(['TOO_LARGE', 'NOT_UTF8', 'NOT_JSON', 'NOT_OBJECT']);
const MAX_RQ = 2 ** 31 - 1;
const validatorOf = (direction: DirectionName, type: string) =>
  store.validators.get(typedMessages().find((m) => directionOf(m) === direction && m.type === type)!.key)!;

// ---------------------------------------------------------------------------------------------
// The model: what the edge must do with these bytes
// ---------------------------------------------------------------------------------------------

type Outcome = { accept: unknown } | { code: ProtocolErrorCode };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function modelOfBytes(direction: Direction, bytes: Uint8Array): Outcome {
  if (bytes.byteLength > direction.maxBytes) return { code: 'TOO_LARGE' };
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return { code: 'NOT_UTF8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { code: 'NOT_JSON' };
  }
  return modelOfValue(direction, value);
}

function modelOfValue(direction: Direction, value: unknown): Outcome {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { code: 'NOT_OBJECT' };
  const { type, rq } = value as Record<string, unknown>;
  if (typeof type !== 'string' || !direction.types.includes(type)) return { code: 'UNKNOWN_TYPE' };
  if (direction.isRequest && !readableRq(rq)) return { code: 'BAD_RQ' };
  const candidate = direction.isRequest ? nfcFileNames(value) : value;
  return validatorOf(direction.name, type)(candidate) ? { accept: candidate } : { code: 'INVALID' };
}

const readableRq = (rq: unknown) => typeof rq === 'number' && Number.isInteger(rq) && rq >= 0 && rq <= MAX_RQ;

// ---------------------------------------------------------------------------------------------
// Structural facts of the brief, checked without ajv
// ---------------------------------------------------------------------------------------------

const PEER_NAME = /^[A-Za-z0-9._-]{1,32}$/;
const HEX = /^[0-9a-f]+$/;
const CURSOR = /^[A-Za-z0-9_-]{1,1024}$/;
const codePoints = (s: string) => [...s].length;
const isInt = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;

function assertFileName(v: unknown, where: string, isRequest: boolean): void {
  assert.equal(typeof v, 'string', `${where} is a string`);
  const s = v as string;
  assert.ok(codePoints(s) >= 1 && codePoints(s) <= 255, `${where} has 1 to 255 code points`);
  assert.ok(!/[/\\\p{Cc}]/u.test(s), `${where} has no '/', '\\', NUL or control character`);
  assert.ok(s !== '.' && s !== '..', `${where} is not . or ..`);
  if (isRequest) assert.equal(s, s.normalize('NFC'), `${where} came out NFC`);
}

function assertFileEntry(v: unknown, where: string, isRequest: boolean): void {
  if (typeof v === 'string') return assertFileName(v, where, isRequest);
  assert.ok(v !== null && typeof v === 'object' && !Array.isArray(v), `${where} is a name or an object`);
  const e = v as Record<string, unknown>;
  assertOnlyKeys(e, ['name', 'size', 'sha256', 'piecesRoot', 'chunks'], where);
  assertFileName(e.name, `${where}.name`, isRequest);
  assertFileFacts(e, where);
}

/** What may describe a file beside its name: its size and SHA-256, and (issue 13) its pieces root and chunk count. */
function assertFileFacts(e: Record<string, unknown>, where: string): void {
  if ('size' in e) assert.ok(isInt(e.size, 0, Number.MAX_SAFE_INTEGER), `${where}.size`);
  if ('sha256' in e) assert.ok(isHash(e.sha256), `${where}.sha256`);
  if ('piecesRoot' in e) assert.ok(isHash(e.piecesRoot), `${where}.piecesRoot`);
  if ('chunks' in e) assert.ok(isInt(e.chunks, 1, Number.MAX_SAFE_INTEGER), `${where}.chunks`);
}

const isHash = (v: unknown): boolean => typeof v === 'string' && v.length === 64 && HEX.test(v);

function assertOnlyKeys(o: object, allowed: string[], where: string): void {
  for (const key of Reflect.ownKeys(o)) assert.ok(allowed.includes(String(key)), `${where} has unexpected key ${String(key)}`);
  assert.ok([Object.prototype, null].includes(Object.getPrototypeOf(o)), `${where} has an odd prototype`);
}

function assertIp(v: unknown, where: string): void {
  assert.ok(typeof v === 'string' && isIP(v) !== 0 && !v.includes('%'), `${where} ${String(v)} is an IP literal (node:net)`);
}

function assertPeerContact(p: Record<string, unknown>, where: string): void {
  assert.ok(typeof p.name === 'string' && PEER_NAME.test(p.name), `${where}name is a peer name`);
  assertIp(p.ip, `${where}ip`);
  assert.ok(isInt(p.tcpPort, 1, 65535), `${where}tcpPort is a port`);
  if ('behindNat' in p) assert.equal(typeof p.behindNat, 'boolean', `${where}behindNat is a boolean`);
}

/** Every fact the brief states about an accepted message, per field name. */
function assertStructure(direction: Direction, m: Record<string, unknown>): void {
  const type = m.type as string;
  assert.ok(direction.types.includes(type), `type ${type}`);
  const nullableRq = type === 'ERROR' || type === 'DOWNLOAD-ERROR';
  assert.ok(isInt(m.rq, 0, MAX_RQ) || (nullableRq && m.rq === null), `rq ${String(m.rq)} is an integer from 0 to 2^31-1`);
  assert.ok([Object.prototype, null].includes(Object.getPrototypeOf(m)));
  for (const [key, v] of Object.entries(m)) {
    switch (key) {
      case 'type': case 'rq': break;
      case 'name':
        if (type === 'UPDATE-DENIED') assert.ok(v === null || (typeof v === 'string' && codePoints(v) <= 64), 'UPDATE-DENIED name');
        else assert.ok(typeof v === 'string' && PEER_NAME.test(v), `name ${JSON.stringify(v)} is a peer name`);
        break;
      // YOU-ARE names a UDP side; CONNECT-BACK and CALLBACK-SENT an address to connect to or punch towards.
      case 'ip': if (type === 'YOU-ARE' || type === 'CONNECT-BACK' || type === 'CALLBACK-SENT') assertIp(v, key); else assertPeerContact(m, ''); break;
      case 'observedIp': assertIp(v, key); break;
      case 'udpPort': case 'tcpPort': case 'observedUdpPort': case 'relayPort': assert.ok(isInt(v, 1, 65535), `${key} ${String(v)} is a port`); break;
      case 'behindNat': assert.equal(typeof v, 'boolean', 'behindNat is a boolean'); break;
      case 'punch': assert.ok(type === 'CALLBACK' || type === 'CONNECT-BACK', `punch only in CALLBACK and CONNECT-BACK, not ${type}`); assert.equal(typeof v, 'boolean', 'punch is a boolean'); break;
      case 'nonce': assert.ok(typeof v === 'string' && v.length >= 32 && v.length <= 64 && HEX.test(v), 'nonce is 32 to 64 hex'); break;
      case 'from': assert.ok(typeof v === 'string' && PEER_NAME.test(v), `from ${JSON.stringify(v)} is a peer name`); break;
      case 'token': assert.ok(typeof v === 'string' && v.length >= 32 && v.length <= 128 && HEX.test(v), 'token is 32+ hex'); break;
      case 'cursor': case 'next': assert.ok(typeof v === 'string' && CURSOR.test(v), `${key} is a cursor`); break;
      case 'reason': assert.ok(typeof v === 'string' && codePoints(v) >= 1 && codePoints(v) <= 600, 'reason'); break;
      case 'file': assertFileName(v, 'file', direction.isRequest); break;
      case 'files':
        assert.ok(Array.isArray(v) && v.length <= 1024, 'files is a list of at most 1024');
        if (type === 'PUBLISH' || type === 'REMOVE') assert.ok(v.length >= 1, 'files is not empty');
        if (type === 'WORDS-FOUND') {
          for (const [i, f] of (v as Array<Record<string, unknown>>).entries()) {
            assert.equal(typeof f, 'object', `files[${i}] is a match`);
            assertOnlyKeys(f, ['name', 'holders', 'size', 'sha256'], `files[${i}]`);
            assertFileName(f.name, `files[${i}].name`, false);
            assert.ok(isInt(f.holders, 1, Number.MAX_SAFE_INTEGER), `files[${i}].holders ≥ 1`);
            assertFileFacts(f, `files[${i}]`);
          }
          break;
        }
        (v as unknown[]).forEach((f, i) => (type === 'REMOVE' ? assertFileName(f, `files[${i}]`, true) : assertFileEntry(f, `files[${i}]`, direction.isRequest)));
        if (type !== 'PUBLISH') (v as unknown[]).forEach((f, i) => assert.ok(type === 'REMOVE' ? typeof f === 'string' : typeof f === 'object', `files[${i}] kind`));
        break;
      case 'peers':
        assert.ok(Array.isArray(v) && v.length <= 1024, 'peers is a list of at most 1024');
        for (const [i, p] of (v as Array<Record<string, unknown>>).entries()) {
          assertPeerContact(p, `peers[${i}].`);
          if (type === 'RETRIEVE') {
            assertOnlyKeys(p, ['name', 'ip', 'tcpPort', 'behindNat', 'relayPort', 'files'], `peers[${i}]`);
            assert.ok(Array.isArray(p.files), `peers[${i}].files`);
            for (const [j, f] of (p.files as unknown[]).entries()) {
              assert.equal(typeof f, 'object', `peers[${i}].files[${j}] is an entry`);
              assertFileEntry(f, `peers[${i}].files[${j}]`, false);
            }
          } else {
            assertOnlyKeys(p, ['name', 'ip', 'tcpPort', 'behindNat', 'size', 'sha256', 'piecesRoot', 'chunks'], `peers[${i}]`);
            assertFileFacts(p, `peers[${i}]`);
          }
        }
        break;
      case 'size': assert.ok(isInt(v, 0, Number.MAX_SAFE_INTEGER), 'size'); break;
      case 'sha256': assert.ok(typeof v === 'string' && v.length === 64 && HEX.test(v), 'sha256'); break;
      case 'chunk': case 'fromChunk': case 'count': case 'chunks': assert.ok(isInt(v, 1, Number.MAX_SAFE_INTEGER), `${key} ≥ 1`); break;
      case 'piecesRoot': assert.ok(isHash(v), 'piecesRoot'); break;
      // PIECE (issue 13): which piece, where it starts, and the hashes that prove it against the pieces root.
      case 'piece': assert.ok(isInt(v, 0, Number.MAX_SAFE_INTEGER), 'piece ≥ 0'); break;
      case 'offset': assert.ok(isInt(v, 0, Number.MAX_SAFE_INTEGER), 'offset ≥ 0'); break;
      case 'proof': assert.ok(Array.isArray(v) && v.length <= 64 && v.every(isHash), 'proof is at most 64 hashes'); break;
      // SEARCH-WORDS (issue 15): the query as typed; WORDS-FOUND's files are checked under 'files'.
      case 'words': assert.ok(typeof v === 'string' && v.length >= 1 && v.length <= 255, 'words has 1 to 255 characters'); break;
      case 'text': {
        assert.equal(typeof v, 'string');
        const n = codePoints(v as string);
        assert.ok(type === 'FILE' ? n === 200 : n <= 200, `text of ${n} code points in ${type}`);
        break;
      }
      case 'encoding': assert.equal(v, 'base64'); break;
      default: assert.fail(`unexpected field ${JSON.stringify(key)} accepted in ${type}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Running a decoder against the model
// ---------------------------------------------------------------------------------------------

function outcomeOf(run: () => unknown): { value: unknown } | { error: unknown } {
  try {
    return { value: run() };
  } catch (error) {
    return { error };
  }
}

function assertAgrees(direction: Direction, model: Outcome, actual: { value: unknown } | { error: unknown }): void {
  if ('error' in actual) {
    const e = actual.error;
    assert.ok(e instanceof ProtocolError, `threw ${e instanceof Error ? e.stack : String(e)} instead of a ProtocolError`);
    assert.ok(typeof e.reason === 'string' && e.reason.length > 0, 'a reason');
    assert.equal(e.drop, GARBAGE.has(e.code), `drop for ${e.code}`);
    assert.ok('code' in model, `rejected (${e.code}: ${e.reason}) what the schema accepts`);
    assert.equal(e.code, model.code, e.reason);
    if (!GARBAGE.has(e.code)) {
      assert.ok(e.received && typeof e.received === 'object', 'an object is kept for the refusal');
      assert.ok(e.rq === null || isInt(e.rq, 0, MAX_RQ), 'rq is null or readable');
    }
    if (e.code === 'INVALID' || e.code === 'BAD_RQ') assert.ok(direction.types.includes(e.messageType!), 'messageType');
    return;
  }
  assert.ok('accept' in model, `accepted ${JSON.stringify(actual.value)?.slice(0, 300)} which should be ${'code' in model ? model.code : ''}`);
  const message = actual.value as Record<string, unknown>;
  assert.ok(validatorOf(direction.name, message.type as string)(message), 'the accepted message passes the test-time validator');
  assertStructure(direction, message);
  assert.deepEqual(message, model.accept);
}

function throwBytes(direction: Direction, bytes: Uint8Array): void {
  assertAgrees(direction, modelOfBytes(direction, bytes), outcomeOf(() => direction.decode(bytes)));
}

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

const DIRECTION_LIST = Object.values(DIRECTIONS);
const ALL_TYPES = [...new Set(typedMessages().map((m) => m.type)), 'UNKNOWN', 'register', ''];
const FIELD_NAMES = [...new Set(typedMessages().flatMap((m) => Object.keys(store.files.get(m.schemaFile!)!.properties)))];
const ODD_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' type', 'TYPE', 'rq\u0000'];

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const nested = (depth: number, inner: unknown, asObject: boolean) => {
  let v = inner;
  for (let i = 0; i < depth; i++) v = asObject ? { a: v } : [v];
  return v;
};
const deepArrayText = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** Bytes that look like nothing, or almost like JSON. */
const randomBytes = fc.oneof(
  fc.uint8Array({ maxLength: 1400 }),
  fc.string({ unit: 'binary', maxLength: 300 }).map(utf8),
  fc.tuple(fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 4 }))
    .map(([json, at, junk]) => {
      const b = utf8(json);
      const i = at % (b.length + 1);
      return Buffer.concat([b.subarray(0, i), junk, b.subarray(i)]);
    }),
  fc.constantFrom(
    Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), // BOM + {}
    Buffer.from([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d]), // {"<CESU surrogate>":1}
    Buffer.from([0xc0, 0xaf]), // overlong '/'
    Buffer.alloc(0), utf8('null'), utf8('[]'), utf8('"str"'), utf8('1e309'), utf8('{'), utf8('{}\n{}'),
    utf8('{"type":"REGISTER","rq":1'), utf8(deepArrayText(590)), utf8(deepArrayText(8000)),
    utf8(`{"type":"DOWNLOAD","rq":1,"file":${deepArrayText(8000)}}`), utf8(`{"type":"REGISTER","rq":1,"name":${deepArrayText(550)}}`),
  ),
);

/** JSON values, and objects with a known (or almost known) type and random fields. */
const randomJson = fc.oneof(
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  {
    weight: 3,
    arbitrary: fc.tuple(
      fc.constantFrom(...ALL_TYPES),
      fc.oneof(fc.integer({ min: -2, max: 2 ** 31 + 2 }), fc.jsonValue({ maxDepth: 1 })),
      fc.dictionary(fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.constantFrom(...ODD_KEYS), fc.string({ maxLength: 6 })), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }),
    ).map(([type, rq, rest]) => ({ type, rq, ...rest })),
  },
);

// Mutations of valid messages. A mutation edits a JSON value in place; numbers that JSON.stringify
// cannot write (1e309, -0 as written, 2^53+1) are spliced into the text through a placeholder.
type Path = Array<string | number>;
const RAW = '\u0000raw:';

/** Paths of every value down to depth 6 (a nesting mutation can be thousands deep). */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object' || prefix.length >= 6) return [prefix];
  const children = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return [prefix, ...children.flatMap((k) => pathsOf((value as any)[k], [...prefix, k]))];
}

const getAt = (root: any, path: Path) => path.reduce((n, k) => n?.[k], root);
function setAt(root: any, path: Path, v: unknown): any {
  if (path.length === 0) return v;
  const parent = getAt(root, path.slice(0, -1));
  Object.defineProperty(parent, path.at(-1)!, { value: v, enumerable: true, writable: true, configurable: true });
  return root;
}

const oddStrings = fc.constantFrom(
  'e\u0301', 'Cafe\u0301.txt', 'Caf\u00e9.txt', '\u1112\u1161\u11ab', '\u0958'.repeat(200), 'A\u030a'.repeat(130),
  'abc\u200f', '\u202etxt.exe', '\u2066x\u2069', 'a\u0000b', 'a\u0007', '\u001f', 'x\u007f', '\u0085', '\u009f', 'a\u2028b',
  '\ud800', 'a\udfffb', '😀'.repeat(256), '.', '..', '...', '/', 'a\\b', ' ', '', 'ALICE', 'alice', 'ａｌｉｃｅ',
  '192.0.2.1', '::1', 'fe80::1%eth0', '[::1]', '01.2.3.4', '1.2.3.4 ', '0', '-0', 'null', 'base64', 'BASE64',
);

interface Mutation { apply(value: any, pick: number): any }
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // drop a field (anywhere)
  fc.constant<Mutation>({ apply: (v, pick) => {
    const paths = pathsOf(v).filter((p) => p.length > 0 && typeof p.at(-1) === 'string');
    if (paths.length === 0) return v;
    const p = paths[pick % paths.length]!;
    delete getAt(v, p.slice(0, -1))[p.at(-1)!];
    return v;
  } }),
  // add a field (prototype keys included, defined as own data properties like JSON.parse does)
  fc.tuple(fc.oneof(fc.constantFrom(...ODD_KEYS), fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 8 })), fc.jsonValue({ maxDepth: 2 }))
    .map(([key, val]): Mutation => ({ apply: (v, pick) => {
      const objects = pathsOf(v).filter((p) => { const o = getAt(v, p); return o && typeof o === 'object' && !Array.isArray(o); });
      return setAt(v, [...objects[pick % objects.length]!, key], val);
    } })),
  // change a value's type, push a number out of range, swap in an odd string, a huge string, deep nesting
  fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(-1, 0, 1.5, 65536, 2 ** 31, 2 ** 31 - 1, 2 ** 53, -(2 ** 31), 1e21, Number.MIN_VALUE),
    fc.constantFrom(`${RAW}1e309`, `${RAW}-1e309`, `${RAW}-0`, `${RAW}-0.0`, `${RAW}1e-400`, `${RAW}9007199254740993`, `${RAW}1.0`, `${RAW}1E2`),
    oddStrings,
    fc.tuple(fc.integer({ min: 200, max: 20_000 }), fc.constantFrom('a', 'é', '😀', '\u0000', '"')).map(([n, c]) => c.repeat(n)),
    fc.integer({ min: 1, max: 500 }).map((d) => nested(d, 1, true)),
    // Nesting deeper than structuredClone and JSON.stringify go, written straight into the text.
    fc.integer({ min: 1, max: 8000 }).map((d) => `${RAW}${'['.repeat(d)}1${']'.repeat(d)}`),
  ).map((val): Mutation => ({ apply: (v, pick) => {
    const paths = pathsOf(v).filter((p) => p.length > 0);
    if (paths.length === 0) return v;
    return setAt(v, paths[pick % paths.length]!, structuredClone(val));
  } })),
  // insert a mark or control character into an existing string
  fc.tuple(fc.constantFrom('\u200f', '\u202e', '\u0301', '\u0000', '\n', '\u009b', '\ufeff', '/'), fc.nat()).map(([c, at]): Mutation => ({ apply: (v, pick) => {
    const strings = pathsOf(v).filter((p) => typeof getAt(v, p) === 'string' && p.length > 0);
    if (strings.length === 0) return v;
    const p = strings[pick % strings.length]!;
    const s = [...(getAt(v, p) as string)];
    s.splice(at % (s.length + 1), 0, c);
    return setAt(v, p, s.join(''));
  } })),
);

/** A valid message of one direction with 1 to 3 mutations, as the bytes a peer would send. */
function mutatedBytes(direction: DirectionName): fc.Arbitrary<Buffer> {
  const messages = typedMessages().filter((m) => directionOf(m) === direction);
  const valid = fc.oneof(...messages.map((m) => validMessages(m)));
  return fc.tuple(valid, fc.array(fc.tuple(mutation, fc.nat()), { minLength: 1, maxLength: 3 })).map(([message, steps]) => {
    let v: any = structuredClone(message);
    for (const [m, pick] of steps) v = m.apply(v, pick);
    const text = JSON.stringify(v).replace(/"\\u0000raw:([^"]*)"/g, '$1');
    return utf8(text);
  });
}

// ---------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------

describe('decoders under fire (fast-check)', () => {
  for (const direction of DIRECTION_LIST) {
    describe(direction.label, () => {
      test('random bytes: a message or a ProtocolError, agreeing with the schema model', () => {
        check(fc.property(randomBytes, (bytes) => throwBytes(direction, bytes)), 600);
      });

      test('random JSON values and objects with random fields', () => {
        check(fc.property(randomJson, (value) => throwBytes(direction, utf8(JSON.stringify(value)))), 800);
      });

      test('mutated valid messages (drop/add field, wrong type, range, 1e309, -0, nesting, NFD, RTL, control chars)', () => {
        check(fc.property(mutatedBytes(direction.name), (bytes) => throwBytes(direction, bytes)), 1500);
      });

      test('valid messages of this direction are accepted unchanged (modulo NFC for requests)', () => {
        const messages = typedMessages().filter((m) => directionOf(m) === direction.name);
        check(fc.property(fc.oneof(...messages.map((m) => validMessages(m))), (message) => {
          const bytes = utf8(JSON.stringify(message));
          const model = modelOfBytes({ ...direction, maxBytes: Infinity }, bytes);
          assertAgrees(direction, model, outcomeOf(() => direction.decode(bytes, Number.MAX_SAFE_INTEGER)));
        }), 300);
      });
    });
  }

  test('validateTcpFrameObject: parsed values, including ones JSON cannot carry (-0, Infinity, NaN)', () => {
    const frames = DIRECTIONS.tcpFrame;
    const frameValues = fc.tuple(
      fc.oneof(...typedMessages().filter((m) => directionOf(m) === 'tcpFrame').map((m) => validMessages(m))),
      fc.constantFrom('rq', 'chunk', 'size', 'text', 'file'),
      fc.constantFrom(-0, Infinity, -Infinity, NaN, 0.5, 2 ** 53, undefined, null, [], {}),
    ).map(([m, key, v]) => ({ ...m, [key]: v }));
    check(fc.property(fc.oneof(randomJson, frameValues), (value) => {
      const copy = structuredClone(value);
      assertAgrees(frames, modelOfValue(frames, copy), outcomeOf(() => validateTcpFrameObject(value)));
    }), 1000);
  });

  test('every IP literal node:net knows (no zone) is accepted; what the pattern accepts node:net knows', () => {
    const ip = store.validatorAt('schemas/common.json', '/$defs/ip');
    check(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (address) => {
      assert.ok(ip(address), `${address} rejected`);
    }), 500);
    check(fc.property(fc.oneof(fc.ipV4Extended(), fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:.%'), maxLength: 45 })), (s) => {
      if (ip(s)) assert.notEqual(isIP(s), 0, `${s} accepted but node:net says it is no IP`);
    }), 1500);
  });
});
