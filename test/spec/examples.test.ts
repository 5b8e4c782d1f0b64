// Issue 2: every example in asyncapi.yaml is valid; for every message type, invalid variants
// (missing field, wrong type, limit exceeded, unknown field) generated from the schema's `required`
// and `properties` are rejected, and the edge's reason names the offending field.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateTcpFrame, validateTcpRequest, validateUdpReply, validateUdpRequest } from '../../src/generated/catalogue.js';
import * as V from '../../src/generated/validators.js';
import type { Validator } from '../../src/generated/validators.js';
import { ProtocolError, decodeTcpRequest, decodeUdpRequest, decodeUdpReply, decodeTcpFrame, encodeDatagram } from '../../src/protocol/index.js';
import { DIRECTIONS, directionOf, invalidVariants, loadSchemas, loadSpec, typedMessages, type VariantKind } from './spec-kit.js';

const spec = loadSpec();
const store = loadSchemas();
const generated = V as unknown as Record<string, Validator<unknown>>;
const byDirection = { udpRequest: validateUdpRequest, udpReply: validateUdpReply, tcpRequest: validateTcpRequest, tcpFrame: validateTcpFrame } as Record<string, Record<string, Validator<unknown>>>;

/** Decodes a message through the edge with no size limit in the way (limits of lists are the point here). */
function decodeThrough(direction: string, message: unknown): unknown {
  return DIRECTIONS[direction as keyof typeof DIRECTIONS].decode(Buffer.from(JSON.stringify(message)), Number.MAX_SAFE_INTEGER);
}

function edgeError(direction: string, message: unknown): ProtocolError {
  try {
    decodeThrough(direction, message);
  } catch (error) {
    assert.ok(error instanceof ProtocolError, `threw ${String(error)} instead of a ProtocolError`);
    return error;
  }
  assert.fail(`accepted ${JSON.stringify(message).slice(0, 200)}`);
}

describe('spec examples', () => {
  test('every message has at least one example', () => {
    for (const m of spec.messages) assert.ok(m.examples.length > 0, `${m.key} has no example`);
  });

  for (const m of typedMessages()) {
    test(`${m.key} (${m.type}) examples validate against ${m.schemaFile}`, () => {
      const compiled = store.validators.get(m.key)!;
      const standalone = generated[m.key]!;
      const dispatch = byDirection[directionOf(m)]![m.type]!;
      assert.equal(dispatch, standalone, `the catalogue dispatches ${m.type} to another validator than ${m.key}`);
      for (const { summary, payload } of m.examples) {
        assert.equal(payload.type, m.type, `${m.key} example "${summary}" has type ${payload.type}`);
        assert.ok(standalone(payload), `${m.key} example "${summary}": ${JSON.stringify(standalone.errors)}`);
        assert.ok(compiled(payload), `${m.key} example "${summary}" (test-time ajv): ${JSON.stringify(compiled.errors)}`);
      }
    });
  }

  test('reply examples fit in one datagram of the default size', () => {
    for (const m of typedMessages().filter((x) => x.transport === 'udp')) {
      for (const { payload } of m.examples) assert.ok(encodeDatagram(payload).byteLength <= 1200, `${m.key} example is over 1,200 bytes`);
    }
  });

  test('the catch-all UnknownRequest example is answered with ERROR by the edge', () => {
    const unknown = spec.messages.find((m) => !m.schemaFile)!;
    for (const { payload } of unknown.examples) {
      const error = edgeError('udpRequest', payload);
      assert.equal(error.code, 'UNKNOWN_TYPE');
      assert.equal(error.drop, false);
    }
  });
});

describe('invalid variants generated from each schema', () => {
  const kinds: VariantKind[] = ['missing', 'wrong type', 'limit'];

  for (const m of typedMessages()) {
    test(`${m.key} (${m.type}): missing, wrong-type, over-limit and unknown fields are rejected with the field named`, () => {
      const direction = directionOf(m);
      const standalone = generated[m.key]!;
      const compiled = store.validators.get(m.key)!;
      const variants = m.examples.flatMap((e) => invalidVariants(store, m, e.payload));
      for (const kind of kinds) {
        assert.ok(variants.some((v) => v.kind === kind), `${m.key}: no "${kind}" variant could be generated from its schema`);
      }
      for (const v of variants) {
        const label = `${m.key} ${v.kind} ${v.field} (${v.what})`;
        assert.equal(compiled(v.value), false, `${label}: the test-time validator accepts it`);
        assert.equal(standalone(v.value), false, `${label}: the generated validator accepts it`);
        const error = edgeError(direction, v.value);
        assert.equal(error.drop, false, `${label}: a JSON object must not be dropped`);
        assert.ok(error.reason.includes(v.field), `${label}: reason ${JSON.stringify(error.reason)} does not name ${v.field}`);
        if (v.field === 'type') {
          assert.equal(error.code, 'UNKNOWN_TYPE', label);
        } else if (v.field === 'rq' && DIRECTIONS[direction].isRequest) {
          assert.equal(error.code, 'BAD_RQ', label);
          assert.equal(error.messageType, m.type, label);
        } else {
          assert.equal(error.code, 'INVALID', `${label}: ${error.reason}`);
          assert.equal(error.messageType, m.type, label);
          const rq = v.value.rq;
          const readable = typeof rq === 'number' && Number.isInteger(rq) && rq >= 0 && rq <= 2 ** 31 - 1 ? rq : null;
          assert.equal(error.rq, readable, `${label}: the readable rq is kept for the refusal`);
        }
      }
    });
  }
});

describe('reasons a person can act on (exact wording)', () => {
  const example = (key: string, i = 0) => structuredClone(spec.messages.find((m) => m.key === key)!.examples[i]!.payload);
  const exampleReason = (key: string, i = 0) => example(key, i).reason as string;
  const reasonOf = (decode: (b: Buffer) => unknown, message: unknown) => {
    try {
      decode(Buffer.from(JSON.stringify(message)));
    } catch (error) {
      assert.ok(error instanceof ProtocolError);
      return error;
    }
    assert.fail('accepted');
  };
  const udp = (b: Buffer) => decodeUdpRequest(b);

  test('the brief\'s two examples', () => {
    const port = reasonOf(udp, { ...example('UpdateContactRequest'), udpPort: 70000 });
    assert.equal(port.reason, 'udpPort must be an integer from 1 to 65535, got 70000');
    const name = reasonOf(udp, { ...example('RegisterRequest'), name: 'a b' });
    assert.equal(name.reason, `name "a b" may only contain letters, digits, '.', '_' and '-'`);
  });

  test('the refusal examples of the spec are the reasons the edge really gives', () => {
    assert.equal(reasonOf(udp, { ...example('UpdateContactRequest'), udpPort: 70000 }).reason, exampleReason('UpdateDeniedReply'));
    const publish = example('PublishRequest');
    publish.files[1] = 'a/b';
    assert.equal(reasonOf(udp, publish).reason, exampleReason('PublishDeniedReply'));
    assert.equal(reasonOf(udp, { ...example('SearchFileRequest'), file: '' }).reason, exampleReason('SearchErrorReply'));
    const hello = reasonOf(udp, example('UnknownRequest'));
    assert.equal(hello.reason, exampleReason('ErrorReply', 0));
    assert.equal(hello.rq, example('ErrorReply', 0).rq);
    const empty = reasonOf(udp, {});
    assert.equal(empty.reason, exampleReason('ErrorReply', 1));
    assert.equal(empty.rq, null);
  });

  test('a handful more', () => {
    const register = example('RegisterRequest');
    const cases: Array<[(b: Buffer) => unknown, unknown, string, string]> = [
      [udp, { ...register, rq: undefined }, 'BAD_RQ', 'rq is required'],
      [udp, { ...register, rq: -1 }, 'BAD_RQ', 'rq must be an integer from 0 to 2147483647, got -1'],
      [udp, { ...register, tcpPort: '6001' }, 'INVALID', 'tcpPort must be an integer from 1 to 65535, got "6001"'],
      [udp, { ...register, name: 'x'.repeat(33) }, 'INVALID', 'name must be 1 to 32 characters long, got 33'],
      [udp, { ...register, ip: 'example.org' }, 'INVALID', 'ip "example.org" must be an IPv4 or IPv6 address literal such as 192.0.2.7 or 2001:db8::7'],
      [udp, { ...register, nick: 'al' }, 'INVALID', 'REGISTER has unknown field "nick"; allowed fields are type, rq, name, ip, udpPort, tcpPort, token, relayPort'],
      [udp, { ...register, token: 'ABC' }, 'INVALID', 'token must be 32 to 128 characters long, got 3'],
      [udp, { ...example('PublishRequest'), files: [] }, 'INVALID', 'files must hold 1 to 1024 entries, got 0'],
      [udp, { ...example('PublishRequest'), files: [7] }, 'INVALID', 'files[0] must be a file name or an object {name, size?, sha256?, piecesRoot?, chunks?}, got 7'],
      [udp, { ...example('PublishRequest'), files: ['..'] }, 'INVALID', `files[0] ".." must not contain '/', '\\', NUL or control characters, and must not be '.' or '..'`],
      [udp, { ...example('PublishRequest'), files: [{ name: 'a', size: -1 }] }, 'INVALID', 'files[0].size must be an integer from 0 to 9007199254740991, got -1'],
      [udp, { ...example('RemoveRequest'), files: ['ok', 'tab\there'] }, 'INVALID', `files[1] "tab\\there" must not contain '/', '\\', NUL or control characters, and must not be '.' or '..'`],
      [udp, { type: 7, rq: 1 }, 'UNKNOWN_TYPE', 'type must be a string, got 7'],
      [(b) => decodeTcpRequest(b), { ...example('DownloadRequest'), fromChunk: 0 }, 'INVALID', 'fromChunk must be an integer from 1 to 9007199254740991, got 0'],
      [(b) => decodeTcpFrame(b), { ...example('FileFrame'), text: 'short' }, 'INVALID', 'text must be exactly 200 characters long, got 5'],
      [(b) => decodeTcpFrame(b), { ...example('FileEndFrame'), encoding: 'hex' }, 'INVALID', 'encoding must be one of "base64", got "hex"'],
      [(b) => decodeUdpReply(b), { ...example('RetrieveReply'), peers: [{ name: 'bob', ip: '192.0.2.1', tcpPort: 0, files: [] }] }, 'INVALID', 'peers[0].tcpPort must be an integer from 1 to 65535, got 0'],
    ];
    for (const [decode, message, code, reason] of cases) {
      const error = reasonOf(decode, message);
      assert.deepEqual({ code: error.code, reason: error.reason }, { code, reason }, JSON.stringify(message).slice(0, 120));
    }
  });
});
