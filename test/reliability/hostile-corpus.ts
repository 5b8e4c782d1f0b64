// Hostile requests for every UDP request type: oversized fields, wrong types, Unicode tricks,
// control characters, prototype-pollution keys, numbers JSON.parse turns into Infinity or -0, deep
// nesting, duplicate keys, huge arrays, and plain garbage. Each case says what the server must do:
// refuse with the request type's refusal and a reason naming the field, answer ERROR, or say nothing.
import type { UdpRequestType } from '../../src/generated/catalogue.js';

export type Expectation =
  /** Garbage: no reply at all. */
  | { drop: true }
  /** The reply type (a refusal or ERROR) and a text its reason must contain: the field at fault. */
  | { reply: string; field: string };

export interface HostileCase {
  label: string;
  requestType: UdpRequestType | null;
  /** The datagram's text (JSON written by hand where JSON.stringify could not express the trick), or bytes. */
  bytes: Buffer;
  expect: Expectation;
}

/** Who sends the corpus: a registered client's name and token, so authorisation is never what refuses it. */
export interface Sender {
  name: string;
  token: string;
  ip: string;
  udpPort: number;
}

const REFUSAL: Record<UdpRequestType, string> = {
  'REGISTER': 'REGISTER-DENIED',
  'DE-REGISTER': 'DE-REGISTER-DENIED',
  'PUBLISH': 'PUBLISH-DENIED',
  'REMOVE': 'REMOVE-DENIED',
  'RETRIEVE-ALL': 'RETRIEVE-ERROR',
  'RETRIEVE-INFOT': 'RETRIEVE-ERROR',
  'SEARCH-FILE': 'SEARCH-ERROR',
  'SEARCH-WORDS': 'WORDS-ERROR',
  'UPDATE-CONTACT': 'UPDATE-DENIED',
  'WHO-AM-I': 'WHO-AM-I-DENIED',
  'CALLBACK': 'CALLBACK-DENIED',
};

const RTL_MARK = '\u200F';
const RTL_OVERRIDE = '\u202E';
const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

export function hostileCorpus(me: Sender): HostileCase[] {
  const cases: HostileCase[] = [];
  let rq = 1000;
  /** A valid request of `type` with `changes` applied (undefined deletes a field), then a refusal expected. */
  const bad = (type: UdpRequestType, label: string, changes: Record<string, unknown>, field: string) => {
    const request: Record<string, unknown> = { ...valid(type, me), rq: ++rq, ...changes };
    for (const [key, value] of Object.entries(changes)) if (value === undefined) delete request[key];
    cases.push({ label: `${type}: ${label}`, requestType: type, bytes: Buffer.from(JSON.stringify(request)), expect: { reply: REFUSAL[type], field } });
  };
  /** Hand-written JSON (for what JSON.stringify cannot write: 1e309, -0, duplicate keys, own __proto__). */
  const raw = (type: UdpRequestType, label: string, json: (rq: number) => string, expect: Expectation) => {
    cases.push({ label: `${type}: ${label}`, requestType: type, bytes: Buffer.from(json(++rq)), expect });
  };
  const head = (type: UdpRequestType, n: number) => `"type":"${type}","rq":${n},"token":"${me.token}"`;

  for (const type of ['REGISTER', 'UPDATE-CONTACT'] as const) {
    bad(type, 'name of 33 characters', { name: 'a'.repeat(33) }, 'name');
    bad(type, 'name with a space', { name: 'a b' }, 'name');
    bad(type, 'name with a right-to-left mark', { name: `evil${RTL_MARK}gro` }, 'name');
    bad(type, 'name with a control character', { name: 'bell\u0007' }, 'name');
    bad(type, 'name with NUL', { name: 'nul\u0000' }, 'name');
    bad(type, 'name that is a number', { name: 42 }, 'name');
    bad(type, 'ip that is a host name', { ip: 'localhost' }, 'ip');
    bad(type, 'ip 999.1.1.1', { ip: '999.1.1.1' }, 'ip');
    bad(type, 'ip with a zone', { ip: 'fe80::1%eth0' }, 'ip');
    bad(type, 'ip with trailing space', { ip: '127.0.0.1 ' }, 'ip');
    bad(type, 'ip that is an array', { ip: ['127.0.0.1'] }, 'ip');
    bad(type, 'udpPort 0', { udpPort: 0 }, 'udpPort');
    bad(type, 'udpPort 65536', { udpPort: 65536 }, 'udpPort');
    bad(type, 'udpPort as a string', { udpPort: '4000' }, 'udpPort');
    bad(type, 'udpPort 1.5', { udpPort: 1.5 }, 'udpPort');
    bad(type, 'tcpPort missing', { tcpPort: undefined }, 'tcpPort');
    bad(type, 'tcpPort null', { tcpPort: null }, 'tcpPort');
    raw(type, 'tcpPort 1e309 (Infinity once parsed)', (n) => `{${head(type, n)},"name":"${me.name}","ip":"${me.ip}","udpPort":${me.udpPort},"tcpPort":1e309}`, { reply: REFUSAL[type], field: 'tcpPort' });
    raw(type, 'udpPort -0', (n) => `{${head(type, n)},"name":"${me.name}","ip":"${me.ip}","udpPort":-0,"tcpPort":7000}`, { reply: REFUSAL[type], field: 'udpPort' });
    raw(type, 'duplicate name key, the last one bad', (n) => `{${head(type, n)},"name":"${me.name}","name":"bad name","ip":"${me.ip}","udpPort":${me.udpPort},"tcpPort":7000}`, { reply: REFUSAL[type], field: 'name' });
    raw(type, 'an own __proto__ key', (n) => `{${head(type, n)},"name":"${me.name}","ip":"${me.ip}","udpPort":${me.udpPort},"tcpPort":7000,"__proto__":{"isAdmin":true}}`, { reply: REFUSAL[type], field: '__proto__' });
    raw(type, 'a constructor.prototype key', (n) => `{${head(type, n)},"name":"${me.name}","ip":"${me.ip}","udpPort":${me.udpPort},"tcpPort":7000,"constructor":{"prototype":{"isAdmin":true}}}`, { reply: REFUSAL[type], field: 'constructor' });
    raw(type, 'name nested 400 arrays deep', (n) => `{${head(type, n)},"name":${deepArray(400)},"ip":"${me.ip}","udpPort":${me.udpPort},"tcpPort":7000}`, { reply: REFUSAL[type], field: 'name' });
  }
  bad('REGISTER', 'ip 0.0.0.0 (unspecified: nobody could reach it)', { ip: '0.0.0.0' }, 'ip');
  bad('REGISTER', 'token that is not hex', { token: 'z'.repeat(32) }, 'token');
  bad('REGISTER', 'token that is a number', { token: 12345 }, 'token');
  bad('UPDATE-CONTACT', 'ip :: (unspecified)', { ip: '::' }, 'ip');

  bad('DE-REGISTER', 'name of 33 characters', { name: 'a'.repeat(33) }, 'name');
  bad('DE-REGISTER', 'name with a right-to-left override', { name: `x${RTL_OVERRIDE}y` }, 'name');
  bad('DE-REGISTER', 'name that is an object', { name: { toString: 'me' } }, 'name');
  bad('DE-REGISTER', 'token of 31 hex characters', { token: 'a'.repeat(31) }, 'token');
  bad('DE-REGISTER', 'an unknown field', { admin: true }, 'admin');
  raw('DE-REGISTER', 'an own __proto__ key', (n) => `{${head('DE-REGISTER', n)},"name":"${me.name}","__proto__":{"polluted":1}}`, { reply: 'DE-REGISTER-DENIED', field: '__proto__' });

  for (const type of ['PUBLISH', 'REMOVE'] as const) {
    bad(type, 'files missing', { files: undefined }, 'files');
    bad(type, 'files that is a string', { files: 'a.txt' }, 'files');
    bad(type, 'files that is an object', { files: { 0: 'a.txt', length: 1 } }, 'files');
    bad(type, 'files empty', { files: [] }, 'files');
    bad(type, 'files [null]', { files: [null] }, 'files[0]');
    bad(type, 'file "."', { files: ['.'] }, 'files[0]');
    bad(type, 'file ".."', { files: ['ok.txt', '..'] }, 'files[1]');
    bad(type, 'file with a slash', { files: ['a/b'] }, 'files[0]');
    bad(type, 'file with a backslash', { files: ['a\\b'] }, 'files[0]');
    bad(type, 'file with NUL', { files: ['a\u0000b'] }, 'files[0]');
    bad(type, 'file with a newline', { files: ['a\nb'] }, 'files[0]');
    bad(type, 'file with DEL', { files: ['a\u007fb'] }, 'files[0]');
    bad(type, 'file of 256 characters', { files: ['f'.repeat(256)] }, 'files[0]');
    bad(type, 'file ""', { files: [''] }, 'files[0]');
    bad(type, 'file that is a number', { files: [7] }, 'files[0]');
    bad(type, 'a huge array of numbers (500 items)', { files: new Array(500).fill(0) }, 'files[0]');
    bad(type, 'name of another kind: an array', { name: [me.name] }, 'name');
    raw(type, 'files nested 500 arrays deep', (n) => `{${head(type, n)},"name":"${me.name}","files":${deepArray(500)}}`, { reply: REFUSAL[type], field: 'files' });
    raw(type, 'files holding an object nested 150 deep', (n) => `{${head(type, n)},"name":"${me.name}","files":[${deepObject(150)}]}`, { reply: REFUSAL[type], field: 'files[0]' });
    raw(type, 'duplicate files key, the last one bad', (n) => `{${head(type, n)},"name":"${me.name}","files":["ok.txt"],"files":["../etc/passwd"]}`, { reply: REFUSAL[type], field: 'files[0]' });
  }
  bad('PUBLISH', 'size -1', { files: [{ name: 'a.txt', size: -1 }] }, 'files[0].size');
  bad('PUBLISH', 'size 1.5', { files: [{ name: 'a.txt', size: 1.5 }] }, 'files[0].size');
  bad('PUBLISH', 'size as a string', { files: [{ name: 'a.txt', size: '10' }] }, 'files[0].size');
  raw('PUBLISH', 'size 1e309', (n) => `{${head('PUBLISH', n)},"name":"${me.name}","files":[{"name":"a.txt","size":1e309}]}`, { reply: 'PUBLISH-DENIED', field: 'files[0].size' });
  bad('PUBLISH', 'sha256 in upper case', { files: [{ name: 'a.txt', sha256: 'A'.repeat(64) }] }, 'files[0].sha256');
  bad('PUBLISH', 'sha256 of 63 characters', { files: [{ name: 'a.txt', sha256: 'a'.repeat(63) }] }, 'files[0].sha256');
  bad('PUBLISH', 'an entry with an unknown field', { files: [{ name: 'a.txt', owner: 'root' }] }, 'files[0]');
  bad('PUBLISH', 'an entry without a name', { files: [{ size: 1 }] }, 'files[0]');
  raw('PUBLISH', 'an entry with an own __proto__ key', (n) => `{${head('PUBLISH', n)},"name":"${me.name}","files":[{"name":"a.txt","__proto__":{"size":1}}]}`, { reply: 'PUBLISH-DENIED', field: 'files[0]' });
  bad('PUBLISH', 'a file name with an unpaired surrogate', { files: ['bad\uD800.txt'] }, 'files[0]');
  bad('REMOVE', 'entries as objects (REMOVE takes names)', { files: [{ name: 'a.txt' }] }, 'files[0]');

  bad('RETRIEVE-ALL', 'cursor that is not base64url', { cursor: '!!!' }, 'cursor');
  bad('RETRIEVE-ALL', 'cursor that decodes to nothing valid', { cursor: 'AAAAAAAA' }, 'cursor');
  bad('RETRIEVE-ALL', 'cursor of 2000 characters', { cursor: 'A'.repeat(1025) }, 'cursor');
  bad('RETRIEVE-ALL', 'cursor that is a number', { cursor: 5 }, 'cursor');
  bad('RETRIEVE-ALL', 'an unknown field', { constructor: 'x' }, 'constructor');
  bad('RETRIEVE-INFOT', 'name missing', { name: undefined }, 'name');
  bad('RETRIEVE-INFOT', 'name with a right-to-left mark', { name: `${me.name}${RTL_MARK}` }, 'name');
  bad('RETRIEVE-INFOT', 'name __proto__ (a legal name nobody registered)', { name: '__proto__' }, 'registered');
  bad('RETRIEVE-INFOT', 'name constructor (a legal name nobody registered)', { name: 'constructor' }, 'registered');
  bad('RETRIEVE-INFOT', 'cursor that decodes to nothing valid', { cursor: 'AAAAAAAA' }, 'cursor');
  bad('SEARCH-FILE', 'file missing', { file: undefined }, 'file');
  bad('SEARCH-FILE', 'file ""', { file: '' }, 'file');
  bad('SEARCH-FILE', 'file with a slash', { file: '../x' }, 'file');
  bad('SEARCH-FILE', 'file with a control character', { file: 'a\u001bb' }, 'file');
  bad('SEARCH-FILE', 'file of 256 characters', { file: 'x'.repeat(256) }, 'file');
  bad('SEARCH-FILE', 'file that is an array', { file: ['a'] }, 'file');
  raw('SEARCH-FILE', 'file 1e309', (n) => `{${head('SEARCH-FILE', n)},"file":1e309}`, { reply: 'SEARCH-ERROR', field: 'file' });
  bad('SEARCH-FILE', 'cursor that decodes to nothing valid', { file: 'a', cursor: 'AAAAAAAA' }, 'cursor');

  // Objects the server cannot tie to a request type: ERROR naming type or rq.
  const error = (label: string, json: string, field: string) =>
    cases.push({ label, requestType: null, bytes: Buffer.from(json), expect: { reply: 'ERROR', field } });
  error('no type', '{"rq":1}', 'type');
  error('empty object', '{}', 'type');
  error('type in lower case', '{"type":"register","rq":1}', 'type');
  error('type that is a number', '{"type":1,"rq":1}', 'type');
  error('type __proto__', '{"type":"__proto__","rq":1}', 'type');
  error('type constructor', '{"type":"constructor","rq":1}', 'type');
  error('type toString', '{"type":"toString","rq":1}', 'type');
  error('rq -1', `{"type":"SEARCH-FILE","rq":-1,"file":"a"}`, 'rq');
  error('rq 2^31', `{"type":"SEARCH-FILE","rq":2147483648,"file":"a"}`, 'rq');
  error('rq 1e309', `{"type":"SEARCH-FILE","rq":1e309,"file":"a"}`, 'rq');
  error('rq as a string', `{"type":"SEARCH-FILE","rq":"1","file":"a"}`, 'rq');
  error('rq 0.5', `{"type":"SEARCH-FILE","rq":0.5,"file":"a"}`, 'rq');
  error('rq missing', `{"type":"PUBLISH","name":"${me.name}","files":["a"]}`, 'rq');

  // Garbage: no reply.
  const drop = (label: string, bytes: Buffer | string) =>
    cases.push({ label, requestType: null, bytes: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes), expect: { drop: true } });
  drop('empty datagram', '');
  drop('not JSON', 'REGISTER me 127.0.0.1 4000 5000');
  drop('JSON with a trailing comma', '{"type":"RETRIEVE-ALL","rq":1,}');
  drop('a JSON array of a request', `[{"type":"RETRIEVE-ALL","rq":1}]`);
  drop('a JSON string', '"RETRIEVE-ALL"');
  drop('a JSON number', '1e309');
  drop('JSON null', 'null');
  drop('invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
  drop('overlong UTF-8 encoding of "/"', Buffer.concat([Buffer.from('{"type":"SEARCH-FILE","rq":1,"file":"a'), Buffer.from([0xc0, 0xaf]), Buffer.from('b"}')]));
  drop('a byte-order mark before the JSON', '\uFEFF{"type":"RETRIEVE-ALL","rq":1}');
  drop('a request of 1,201 bytes', JSON.stringify({ type: 'SEARCH-FILE', rq: 1, file: 'a', pad: 'x'.repeat(1201) }).slice(0, 1201));
  drop('PUBLISH of 2,000 files (over the size limit)', JSON.stringify({ type: 'PUBLISH', rq: 1, name: me.name, files: Array.from({ length: 2000 }, (_, i) => `f${i}`) }));
  drop('nesting 30,000 deep (60 kB: over the size limit, within UDP)', deepArray(30_000));
  drop('nesting 590 deep, within the size limit', deepArray(590));
  return cases;
}

/** A request of `type` the server would accept from `me`. */
export function valid(type: UdpRequestType, me: Sender): Record<string, unknown> {
  const contact = { name: me.name, ip: me.ip, udpPort: me.udpPort, tcpPort: 7000 };
  switch (type) {
    case 'REGISTER':
    case 'UPDATE-CONTACT':
      return { type, ...contact, token: me.token };
    case 'DE-REGISTER':
      return { type, name: me.name, token: me.token };
    case 'PUBLISH':
    case 'REMOVE':
      return { type, name: me.name, files: ['a.txt'], token: me.token };
    case 'RETRIEVE-ALL':
      return { type, token: me.token };
    case 'RETRIEVE-INFOT':
      return { type, name: me.name, token: me.token };
    case 'SEARCH-FILE':
      return { type, file: 'a.txt', token: me.token };
    case 'SEARCH-WORDS':
      return { type, words: 'a txt', token: me.token };
    case 'WHO-AM-I':
      return { type, token: me.token };
    case 'CALLBACK':
      return { type, name: me.name, tcpPort: 7000, nonce: 'a'.repeat(32), token: me.token };
  }
}
