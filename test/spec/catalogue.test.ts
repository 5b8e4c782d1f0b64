// The brief's message catalogue, hard-coded from /work/shared/protocol-brief.md, against the spec
// (asyncapi.yaml + schemas/) and the generated catalogue. A message missing from the spec, a reply
// missing from an operation, or a brief field missing from a schema fails here.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MESSAGES, TCP_FRAME_TYPES, TCP_REQUEST_TYPES, TRANSPORT_LIMITS, UDP_FALLBACK_REPLY, UDP_REFUSAL,
  UDP_REPLY_TYPES, UDP_REQUEST_TYPES, type UdpRepliesTo, type UdpRequestType,
} from '../../src/generated/catalogue.js';
import { child, deref, loadSchemas, loadSpec, messageSchema, type JsonSchema, type Located, type SpecMessage } from './spec-kit.js';

/** `field?` is optional; anything else is required. Nested lists give the fields of their items. */
type Fields = Array<string | [string, Fields]>;
interface BriefRequest { transport: 'udp' | 'tcp'; fields: Fields; replies: Record<string, Fields> }

const FILE_ENTRY: Fields = ['name', 'size?', 'sha256?'];
const BRIEF: Record<string, BriefRequest> = {
  'REGISTER': { transport: 'udp', fields: ['name', 'ip', 'udpPort', 'tcpPort'], replies: { 'REGISTERED': ['token'], 'REGISTER-DENIED': ['reason'] } },
  'DE-REGISTER': { transport: 'udp', fields: ['name', 'token?'], replies: { 'DE-REGISTERED': [], 'DE-REGISTER-DENIED': ['reason'] } },
  'PUBLISH': { transport: 'udp', fields: ['name', 'files', 'token?'], replies: { 'PUBLISHED': [], 'PUBLISH-DENIED': ['reason'] } },
  'REMOVE': { transport: 'udp', fields: ['name', 'files', 'token?'], replies: { 'REMOVED': [], 'REMOVE-DENIED': ['reason'] } },
  'RETRIEVE-ALL': {
    transport: 'udp', fields: ['cursor?', 'token?'],
    replies: { 'RETRIEVE': [['peers', ['name', 'ip', 'tcpPort', ['files', FILE_ENTRY]]], 'next?'], 'RETRIEVE-ERROR': ['reason'] },
  },
  'RETRIEVE-INFOT': {
    transport: 'udp', fields: ['name', 'cursor?', 'token?'],
    replies: { 'RETRIEVE-INFOT': ['name', 'ip', 'tcpPort', ['files', FILE_ENTRY], 'next?'], 'RETRIEVE-ERROR': ['reason'] },
  },
  'SEARCH-FILE': {
    transport: 'udp', fields: ['file', 'cursor?', 'token?'],
    replies: { 'SEARCH-FILE': ['file', ['peers', ['name', 'ip', 'tcpPort', 'size?', 'sha256?']], 'next?'], 'SEARCH-ERROR': ['reason'] },
  },
  // Beyond the course: issue 15's search by words.
  'SEARCH-WORDS': {
    transport: 'udp', fields: ['words', 'cursor?', 'token?'],
    replies: { 'WORDS-FOUND': [['files', ['name', 'holders', 'size?', 'sha256?']], 'next?'], 'WORDS-ERROR': ['reason'] },
  },
  'UPDATE-CONTACT': {
    transport: 'udp', fields: ['name', 'ip', 'udpPort', 'tcpPort', 'token?'],
    replies: { 'UPDATE-CONFIRMED': ['name', 'ip', 'udpPort', 'tcpPort'], 'UPDATE-DENIED': ['name', 'reason'] },
  },
  // Beyond the course: issue 14 (reachability across NATs).
  'WHO-AM-I': {
    transport: 'udp', fields: ['token?'],
    replies: { 'YOU-ARE': ['name', 'ip', 'udpPort', 'observedIp', 'observedUdpPort', 'behindNat'], 'WHO-AM-I-DENIED': ['reason'] },
  },
  'CALLBACK': {
    transport: 'udp', fields: ['name', 'tcpPort', 'nonce', 'token?'],
    replies: { 'CALLBACK-SENT': ['name'], 'CALLBACK-DENIED': ['reason'] },
  },
  'RELAY': { transport: 'tcp', fields: ['name'], replies: { 'RELAY-READY': ['name'], 'RELAY-DENIED': ['reason'] } },
  'DOWNLOAD': {
    transport: 'tcp', fields: ['file', 'fromChunk?'],
    replies: {
      'FILE': ['file', 'chunk', 'text', 'encoding?'],
      'FILE-END': ['file', 'chunk', 'text', 'encoding?', 'size', 'sha256'],
      'DOWNLOAD-ERROR': ['reason'],
      // Beyond the brief (issue 13): a ranged DOWNLOAD gets each piece's offset and Merkle proof first.
      'PIECE': ['file', 'piece', 'offset', 'proof'],
    },
  },
};
/** A JSON object with an unknown or missing type gets ERROR {reason}. */
const BRIEF_FALLBACK = { reply: 'ERROR', fields: ['reason'] as Fields };
/** The full list the issue names (RETRIEVE-INFOT and SEARCH-FILE once as request, once as reply). */
const BRIEF_NAMES = [
  'REGISTER', 'REGISTERED', 'REGISTER-DENIED', 'DE-REGISTER', 'DE-REGISTERED', 'DE-REGISTER-DENIED', 'PUBLISH', 'PUBLISHED',
  'PUBLISH-DENIED', 'REMOVE', 'REMOVED', 'REMOVE-DENIED', 'RETRIEVE-ALL', 'RETRIEVE', 'RETRIEVE-ERROR', 'RETRIEVE-INFOT',
  'RETRIEVE-INFOT', 'SEARCH-FILE', 'SEARCH-FILE', 'SEARCH-ERROR', 'SEARCH-WORDS', 'WORDS-FOUND', 'WORDS-ERROR', 'UPDATE-CONTACT', 'UPDATE-CONFIRMED', 'UPDATE-DENIED', 'ERROR',
  'DOWNLOAD', 'FILE', 'FILE-END', 'DOWNLOAD-ERROR',
  // Beyond the brief (issue 13): ranged downloads verified piece by piece.
  'PIECE',
  // issue 14
  'WHO-AM-I', 'YOU-ARE', 'WHO-AM-I-DENIED', 'CALLBACK', 'CALLBACK-SENT', 'CALLBACK-DENIED', 'CONNECT-BACK', 'CONNECTED-BACK',
  'RELAY', 'RELAY-READY', 'RELAY-DENIED',
];
/** Messages the server side of a channel sends unsolicited (issue 14): they travel the reply direction. */
const BRIEF_PUSHES: Record<string, { transport: 'udp' | 'tcp'; fields: Fields }> = {
  'CONNECT-BACK': { transport: 'udp', fields: ['from', 'ip', 'tcpPort', 'nonce'] },
  'CONNECTED-BACK': { transport: 'tcp', fields: ['name', 'nonce'] },
};

const spec = loadSpec();
const store = loadSchemas();
const byKey = new Map(spec.messages.map((m) => [m.key, m]));
const sorted = (xs: Iterable<string>) => [...xs].sort();

const briefRequests = Object.keys(BRIEF);
const briefReplies = (transport: 'udp' | 'tcp') => [...new Set([
  ...Object.values(BRIEF).filter((r) => r.transport === transport).flatMap((r) => Object.keys(r.replies)),
  ...(transport === 'udp' ? [BRIEF_FALLBACK.reply] : []),
  ...Object.entries(BRIEF_PUSHES).filter(([, p]) => p.transport === transport).map(([type]) => type),
])];

/** The object schema a field list describes: the message, or the items of a list field. */
function objectSchema(at: Located, value: JsonSchema = deref(store, at).schema): Located {
  const node = deref(store, at);
  if (value.type === 'array') return objectSchema(child(node, 'items'));
  if (value.if) return objectSchema(child(node, 'else')); // PUBLISH files: a name, or an entry object
  return node;
}

function assertFields(where: string, at: Located, fields: Fields): void {
  const node = objectSchema(at);
  const s = node.schema;
  assert.equal(s.type, 'object', `${where} is an object`);
  const required = new Set<string>(s.required ?? []);
  const properties = s.properties ?? {};
  for (const field of fields) {
    const [spelled, nested] = Array.isArray(field) ? field : [field, undefined];
    const name = spelled.replace(/\?$/, '');
    assert.ok(name in properties, `${where}: the brief's field "${name}" is missing from the schema`);
    if (spelled.endsWith('?')) assert.ok(!required.has(name), `${where}.${name} is optional in the brief but required in the schema`);
    else assert.ok(required.has(name), `${where}.${name} is required in the brief but optional in the schema`);
    if (nested) assertFields(`${where}.${name}[]`, child(node, 'properties', name), nested);
  }
  const briefNames = new Set(fields.map((f) => (Array.isArray(f) ? f[0] : f).replace(/\?$/, '')));
  for (const extra of Object.keys(properties).filter((p) => !briefNames.has(p) && p !== 'type' && p !== 'rq')) {
    assert.ok(!required.has(extra), `${where}.${extra} is not in the brief, so it may not be required (clients written to the brief omit it)`);
  }
}

const message = (transport: 'udp' | 'tcp', direction: SpecMessage['direction'], type: string) => {
  const found = spec.messages.filter((m) => m.transport === transport && m.direction === direction && m.type === type);
  assert.equal(found.length, 1, `${transport.toUpperCase()} ${direction} ${type}: expected exactly one message in asyncapi.yaml, found ${found.length}`);
  return found[0]!;
};

describe('the brief\'s catalogue is the spec\'s catalogue', () => {
  test('exactly the brief\'s messages, plus the catch-all that ERROR answers', () => {
    const typed = spec.messages.filter((m) => m.schemaFile).map((m) => m.type);
    assert.deepEqual(sorted(typed), sorted(BRIEF_NAMES));
    assert.deepEqual(spec.messages.filter((m) => !m.schemaFile).map((m) => m.direction), ['request']);
  });

  for (const [type, brief] of Object.entries(BRIEF)) {
    test(`${type}: fields and replies`, () => {
      const request = message(brief.transport, 'request', type);
      assertFields(type, messageSchema(store, request), brief.fields);
      const ops = spec.operations.filter((op) => op.request === request.key);
      assert.equal(ops.length, 1, `${type}: one operation`);
      const replies = ops[0]!.replies.map((k) => byKey.get(k)!);
      assert.deepEqual(sorted(replies.map((r) => r.type)), sorted(Object.keys(brief.replies)), `${type}: the operation's replies`);
      for (const [replyType, fields] of Object.entries(brief.replies)) {
        const reply = message(brief.transport, 'reply', replyType);
        assertFields(replyType, messageSchema(store, reply), fields);
      }
    });
  }

  for (const [type, push] of Object.entries(BRIEF_PUSHES)) {
    test(`${type}: pushed unsolicited, in the reply direction, with its fields`, () => {
      const pushed = message(push.transport, 'reply', type);
      assertFields(type, messageSchema(store, pushed), push.fields);
      const ops = spec.operations.filter((op) => op.request === pushed.key);
      assert.deepEqual(ops.map((op) => [op.action, op.replies.length]), [['send', 0]]);
    });
  }

  test('unknown or missing type: ERROR {reason}, rq null when unreadable', () => {
    const catchAll = spec.operations.find((op) => !byKey.get(op.request)!.schemaFile)!;
    assert.deepEqual(catchAll.replies.map((k) => byKey.get(k)!.type), [BRIEF_FALLBACK.reply]);
    const error = message('udp', 'reply', 'ERROR');
    assertFields('ERROR', messageSchema(store, error), BRIEF_FALLBACK.fields);
    assert.ok(store.validators.get(error.key)!({ type: 'ERROR', rq: null, reason: 'type is required' }), 'rq may be null');
  });

  test('every message: type is its name, rq a required integer 0 ≤ rq ≤ 2^31-1', () => {
    for (const m of spec.messages.filter((x) => x.schemaFile)) {
      const s = store.files.get(m.schemaFile!)!;
      assert.equal(s.properties.type.const, m.type, `${m.key}: type const`);
      assert.ok(s.required.includes('type') && s.required.includes('rq'), `${m.key}: type and rq required`);
      const validate = store.validators.get(m.key)!;
      const base = m.examples[0]!.payload;
      assert.ok(validate({ ...base, rq: 0 }) && validate({ ...base, rq: 2 ** 31 - 1 }), `${m.key}: rq 0 and 2^31-1`);
      assert.ok(!validate({ ...base, rq: -1 }) && !validate({ ...base, rq: 2 ** 31 }) && !validate({ ...base, rq: 1.5 }), `${m.key}: rq out of range`);
    }
  });

  test('the generated catalogue lists the same messages', () => {
    assert.deepEqual(sorted(UDP_REQUEST_TYPES), sorted(briefRequests.filter((t) => BRIEF[t]!.transport === 'udp')));
    assert.deepEqual(sorted(UDP_REPLY_TYPES), sorted(briefReplies('udp')));
    assert.deepEqual(sorted(TCP_REQUEST_TYPES), sorted(briefRequests.filter((t) => BRIEF[t]!.transport === 'tcp')));
    assert.deepEqual(sorted(TCP_FRAME_TYPES), sorted(briefReplies('tcp')));
    assert.equal(UDP_FALLBACK_REPLY, BRIEF_FALLBACK.reply);
    assert.deepEqual(
      sorted(MESSAGES.map((m) => `${m.key} ${m.type} ${m.transport} ${m.direction}`)),
      sorted(spec.messages.map((m) => `${m.key} ${m.type} ${m.transport} ${m.direction}`)),
    );
    for (const [request, refusal] of Object.entries(UDP_REFUSAL)) {
      const withReason = Object.entries(BRIEF[request]!.replies).filter(([, f]) => f.includes('reason')).map(([t]) => t);
      assert.deepEqual([refusal], withReason, `${request} is refused with its reply that carries a reason`);
    }
  });

  test('the brief\'s limits', () => {
    assert.equal(TRANSPORT_LIMITS.udp.maxDatagramBytes, 1200);
    const at = (def: string) => store.validatorAt('schemas/common.json', `/$defs/${def}`);
    const cases: Array<[string, unknown, boolean]> = [
      ['peerName', 'a', true], ['peerName', 'x'.repeat(32), true], ['peerName', 'x'.repeat(33), false], ['peerName', '', false],
      ['peerName', 'Az09._-', true], ['peerName', 'a b', false], ['peerName', 'é', false],
      ['fileName', 'x'.repeat(255), true], ['fileName', 'x'.repeat(256), false], ['fileName', '😀'.repeat(255), true], ['fileName', '', false],
      ['fileName', '.', false], ['fileName', '..', false], ['fileName', '...', true], ['fileName', '.hidden', true],
      ['fileName', 'a/b', false], ['fileName', 'a\\b', false], ['fileName', 'a\u0000', false], ['fileName', 'a\u001f', false],
      ['fileName', 'a\u007f', false], ['fileName', 'a\u0085', false], ['fileName', 'é ü.txt', true],
      ['ip', '192.0.2.7', true], ['ip', '2001:db8::7', true], ['ip', '::', true], ['ip', '::ffff:192.0.2.1', true],
      ['ip', '256.1.1.1', false], ['ip', 'localhost', false], ['ip', '[::1]', false], ['ip', 'fe80::1%eth0', false],
      ['port', 1, true], ['port', 65535, true], ['port', 0, false], ['port', 65536, false], ['port', 80.5, false], ['port', '80', false],
      ['token', 'a'.repeat(32), true], ['token', 'a'.repeat(31), false], ['token', 'A'.repeat(32), false],
    ];
    for (const [def, value, ok] of cases) assert.equal(at(def)(value), ok, `${def} ${JSON.stringify(value)} should be ${ok ? 'accepted' : 'refused'}`);
  });
});

// Compile-time: the generated reply map has exactly the brief's replies per request.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
type RepliesOf<R extends UdpRequestType> = UdpRepliesTo[R]['type'];
export const repliesMatchTheBrief: [
  Equal<RepliesOf<'REGISTER'>, 'REGISTERED' | 'REGISTER-DENIED'>,
  Equal<RepliesOf<'DE-REGISTER'>, 'DE-REGISTERED' | 'DE-REGISTER-DENIED'>,
  Equal<RepliesOf<'PUBLISH'>, 'PUBLISHED' | 'PUBLISH-DENIED'>,
  Equal<RepliesOf<'REMOVE'>, 'REMOVED' | 'REMOVE-DENIED'>,
  Equal<RepliesOf<'RETRIEVE-ALL'>, 'RETRIEVE' | 'RETRIEVE-ERROR'>,
  Equal<RepliesOf<'RETRIEVE-INFOT'>, 'RETRIEVE-INFOT' | 'RETRIEVE-ERROR'>,
  Equal<RepliesOf<'SEARCH-FILE'>, 'SEARCH-FILE' | 'SEARCH-ERROR'>,
  Equal<RepliesOf<'SEARCH-WORDS'>, 'WORDS-FOUND' | 'WORDS-ERROR'>,
  Equal<RepliesOf<'UPDATE-CONTACT'>, 'UPDATE-CONFIRMED' | 'UPDATE-DENIED'>,
  Equal<RepliesOf<'WHO-AM-I'>, 'YOU-ARE' | 'WHO-AM-I-DENIED'>,
  Equal<RepliesOf<'CALLBACK'>, 'CALLBACK-SENT' | 'CALLBACK-DENIED'>,
  Equal<UdpRequestType, 'REGISTER' | 'DE-REGISTER' | 'PUBLISH' | 'REMOVE' | 'RETRIEVE-ALL' | 'RETRIEVE-INFOT' | 'SEARCH-FILE' | 'SEARCH-WORDS' | 'UPDATE-CONTACT' | 'WHO-AM-I' | 'CALLBACK'>,
] = [true, true, true, true, true, true, true, true, true, true, true, true];
