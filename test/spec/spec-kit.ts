// Test-side view of the protocol spec, built independently of scripts/codegen: the raw asyncapi.yaml
// (read with `yaml`, not @asyncapi/parser), the raw schema files compiled by ajv at test time, a
// schema-driven generator of valid messages (fast-check) and a schema-driven generator of invalid
// variants. A message added to the spec is picked up by every test that uses this kit.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import YAML from 'yaml';
import type { ValidateFunction } from 'ajv';
import { createAjv } from '../../scripts/codegen/validators.js';
import { SCHEMA_BASE } from '../../scripts/codegen/schemas.js';
import {
  decodeTcpFrame, decodeTcpRequest, decodeUdpReply, decodeUdpRequest,
} from '../../src/protocol/index.js';
import {
  TCP_FRAME_TYPES, TCP_REQUEST_TYPES, UDP_REPLY_TYPES, UDP_REQUEST_TYPES,
} from '../../src/generated/catalogue.js';

export type JsonSchema = Record<string, any>;
export const ROOT = path.resolve(import.meta.dirname, '../..');

// ---------------------------------------------------------------------------------------------
// The spec, read raw
// ---------------------------------------------------------------------------------------------

export type DirectionName = 'udpRequest' | 'udpReply' | 'tcpRequest' | 'tcpFrame';

export interface SpecMessage {
  key: string;
  /** Wire `type` (the AsyncAPI message `name`). */
  type: string;
  transport: 'udp' | 'tcp';
  direction: 'request' | 'reply';
  /** Project-relative schema path, or null for the catch-all UnknownRequest. */
  schemaFile: string | null;
  examples: Array<{ summary?: string; payload: any }>;
}

export interface SpecOperation {
  id: string;
  action: 'receive' | 'send';
  transport: 'udp' | 'tcp';
  request: string;
  replies: string[];
}

export interface Spec {
  raw: any;
  messages: SpecMessage[];
  operations: SpecOperation[];
}

/** Follows a local `#/a/b/c` pointer in the raw document. */
function pointer(doc: any, ref: string): any {
  return ref.replace(/^#\//, '').split('/').reduce((node, part) => node?.[part.replaceAll('~1', '/').replaceAll('~0', '~')], doc);
}

/** `#/channels/index/messages/X` (or `#/components/messages/X`) → the component key X. */
function messageKey(doc: any, ref: string): string {
  const target = pointer(doc, ref);
  if (target?.$ref) return messageKey(doc, target.$ref);
  return ref.split('/').pop()!;
}

let specCache: Spec | undefined;
export function loadSpec(): Spec {
  if (specCache) return specCache;
  const raw = YAML.parse(readFileSync(path.join(ROOT, 'asyncapi.yaml'), 'utf8'));
  const transportOf = (channelRef: string): 'udp' | 'tcp' => {
    const channel = pointer(raw, channelRef);
    return pointer(raw, channel.servers[0].$ref).protocol;
  };
  const operations: SpecOperation[] = Object.entries<any>(raw.operations).map(([id, op]) => ({
    id,
    action: op.action,
    transport: transportOf(op.channel.$ref),
    request: messageKey(raw, op.messages[0].$ref),
    replies: (op.reply?.messages ?? []).map((m: any) => messageKey(raw, m.$ref)),
  }));
  const transportOfMessage = new Map<string, 'udp' | 'tcp'>();
  for (const op of operations) for (const k of [op.request, ...op.replies]) transportOfMessage.set(k, op.transport);
  // A `send` operation's message is a push: it travels the reply direction (server to client).
  const requests = new Set(operations.filter((op) => op.action !== 'send').map((op) => op.request));
  const messages: SpecMessage[] = Object.entries<any>(raw.components.messages).map(([key, m]) => ({
    key,
    type: m.name,
    transport: transportOfMessage.get(key)!,
    direction: requests.has(key) ? 'request' : 'reply',
    schemaFile: m.payload?.$ref ? path.posix.normalize(m.payload.$ref) : null,
    examples: m.examples ?? [],
  }));
  specCache = { raw, messages, operations };
  return specCache;
}

export const typedMessages = (): SpecMessage[] => loadSpec().messages.filter((m) => m.schemaFile);

export function directionOf(m: Pick<SpecMessage, 'transport' | 'direction'>): DirectionName {
  if (m.transport === 'udp') return m.direction === 'request' ? 'udpRequest' : 'udpReply';
  return m.direction === 'request' ? 'tcpRequest' : 'tcpFrame';
}

// ---------------------------------------------------------------------------------------------
// Raw schemas and an independent ajv (same options as the codegen, compiled here at test time)
// ---------------------------------------------------------------------------------------------

export interface SchemaStore {
  /** Project-relative path (schemas/udp/register.json) → raw schema. */
  files: Map<string, JsonSchema>;
  /** Message key → validator compiled at test time from the raw files. */
  validators: Map<string, ValidateFunction>;
  /** Validator of any schema node reachable in the files: `${file}#${jsonPointer}`. */
  validatorAt(file: string, pointer: string): ValidateFunction;
}

let storeCache: SchemaStore | undefined;
export function loadSchemas(): SchemaStore {
  if (storeCache) return storeCache;
  const files = new Map<string, JsonSchema>();
  const dir = path.join(ROOT, 'schemas');
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.json')) continue;
    const abs = path.join(entry.parentPath, entry.name);
    files.set(path.relative(ROOT, abs).split(path.sep).join('/'), JSON.parse(readFileSync(abs, 'utf8')));
  }
  const ajv = createAjv({ standalone: false });
  for (const [file, schema] of files) ajv.addSchema(schema, SCHEMA_BASE + file);
  const validators = new Map<string, ValidateFunction>();
  for (const m of typedMessages()) validators.set(m.key, ajv.getSchema(SCHEMA_BASE + m.schemaFile)!);
  const cache = new Map<string, ValidateFunction>();
  const validatorAt = (file: string, ptr: string) => {
    const id = `${SCHEMA_BASE}${file}#${ptr}`;
    if (!cache.has(id)) cache.set(id, ajv.getSchema(id)!);
    return cache.get(id)!;
  };
  storeCache = { files, validators, validatorAt };
  return storeCache;
}

/** A schema node together with the file its relative `$ref`s resolve against. */
export interface Located {
  schema: JsonSchema;
  file: string;
  /** JSON pointer of the node in its file. */
  pointer: string;
}

/** Follows `$ref`s (relative file refs and local `#/$defs/x`) until a node without one. */
export function deref(store: SchemaStore, at: Located): Located {
  let current = at;
  for (let hops = 0; current.schema.$ref; hops++) {
    if (hops > 20) throw new Error(`$ref loop at ${current.file}#${current.pointer}`);
    const [target, frag = ''] = String(current.schema.$ref).split('#');
    const file = target ? path.posix.normalize(path.posix.join(path.posix.dirname(current.file), target)) : current.file;
    const doc = store.files.get(file);
    if (!doc) throw new Error(`unresolvable $ref ${current.schema.$ref} in ${current.file}`);
    current = { schema: frag ? pointer(doc, `#${frag}`) : doc, file, pointer: frag };
  }
  return current;
}

export const child = (at: Located, ...parts: string[]): Located => ({
  schema: parts.reduce((s, p) => s[p], at.schema),
  file: at.file,
  pointer: `${at.pointer}/${parts.join('/')}`,
});

export const messageSchema = (store: SchemaStore, m: SpecMessage): Located =>
  ({ schema: store.files.get(m.schemaFile!)!, file: m.schemaFile!, pointer: '' });

// ---------------------------------------------------------------------------------------------
// Decoders by direction
// ---------------------------------------------------------------------------------------------

export interface Direction {
  name: DirectionName;
  label: string;
  types: readonly string[];
  /** Requests are NFC-normalised and need a readable rq first. */
  isRequest: boolean;
  maxBytes: number;
  decode(bytes: Uint8Array, maxBytes?: number): unknown;
  encode(message: unknown): Buffer;
}

const datagram = (m: unknown) => Buffer.from(JSON.stringify(m));
const line = (m: unknown) => Buffer.from(JSON.stringify(m));

export const DIRECTIONS: Record<DirectionName, Direction> = {
  udpRequest: {
    name: 'udpRequest', label: 'UDP request (decodeUdpRequest)', types: UDP_REQUEST_TYPES, isRequest: true, maxBytes: 1200,
    decode: (b, max) => decodeUdpRequest(b, max), encode: datagram,
  },
  udpReply: {
    name: 'udpReply', label: 'UDP reply (decodeUdpReply)', types: UDP_REPLY_TYPES, isRequest: false, maxBytes: 1200,
    decode: (b, max) => decodeUdpReply(b, max), encode: datagram,
  },
  tcpRequest: {
    name: 'tcpRequest', label: 'TCP request (decodeTcpRequest)', types: TCP_REQUEST_TYPES, isRequest: true, maxBytes: 16384,
    decode: (b) => decodeTcpRequest(b), encode: line,
  },
  tcpFrame: {
    name: 'tcpFrame', label: 'TCP frame (decodeTcpFrame)', types: TCP_FRAME_TYPES, isRequest: false, maxBytes: 16384,
    decode: (b) => decodeTcpFrame(b), encode: line,
  },
};

/** What a request decoder does to file names before validating: NFC, so `é` typed two ways is one name. */
export function nfcFileNames<T>(message: T): T {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) return message;
  // A shallow copy: the rest may be nested thousands deep, past what structuredClone can copy.
  const m = { ...message } as any;
  if (typeof m.file === 'string') m.file = m.file.normalize('NFC');
  if (Array.isArray(m.files)) {
    m.files = m.files.map((e: any) => {
      if (typeof e === 'string') return e.normalize('NFC');
      if (e !== null && typeof e === 'object' && !Array.isArray(e) && typeof e.name === 'string') return { ...e, name: e.name.normalize('NFC') };
      return e;
    });
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// fast-check: seeded runs, reproducible, seed printed on failure
// ---------------------------------------------------------------------------------------------

/** FC_SEED=<n> reproduces a failing run; FC_RUNS=<factor> multiplies the runs for a longer soak. */
export const FC_SEED = Number(process.env.FC_SEED ?? 20_240_602);
const RUN_FACTOR = Number(process.env.FC_RUNS ?? 1);

export function check<T>(property: fc.IProperty<T>, numRuns: number): void {
  const runs = Math.max(1, Math.round(numRuns * RUN_FACTOR));
  const details = fc.check(property, { seed: FC_SEED, numRuns: runs });
  if (details.failed) {
    const clip = (text: string, n: number) => (text.length > n ? `${text.slice(0, n)}… (${text.length} chars)` : text);
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error([
      `Property failed after ${details.numRuns} runs (${details.numShrinks} shrinks).`,
      `Reproduce with FC_SEED=${FC_SEED} (fast-check seed ${details.seed}, path ${details.counterexamplePath}).`,
      `Counterexample: ${clip(fc.stringify(details.counterexample), 600)}`,
      `Failure: ${clip(cause, 1500)}`,
    ].join('\n'));
  }
}

// ---------------------------------------------------------------------------------------------
// Valid messages from a schema
// ---------------------------------------------------------------------------------------------

export interface GenOptions {
  /** Longest array generated (schemas allow 1024; a datagram holds far fewer). */
  maxItems: number;
  /** Longest free-text string generated, unless the schema's minLength asks for more. */
  maxChars: number;
}
const DEFAULT_GEN: GenOptions = { maxItems: 3, maxChars: 24 };

/** Characters that make file names interesting: NFD/NFC, RTL marks, astral code points. */
const SPICE = ['é', 'e\u0301', 'A\u030a', 'Å', '\u200f', '\u202e', '한', '\u1112\u1161\u11ab', '😀', ' ', '.', '-'];

function stringArbitrary(s: JsonSchema, opts: GenOptions): fc.Arbitrary<string> {
  const minLength = s.minLength ?? 0;
  const maxLength = Math.max(minLength, Math.min(s.maxLength ?? opts.maxChars, Math.max(opts.maxChars, minLength)));
  const full = s.pattern ? new RegExp(s.pattern, 'u') : null;
  const fits = (v: string) => {
    const n = [...v].length;
    return n >= (s.minLength ?? 0) && n <= (s.maxLength ?? Infinity) && (!full || full.test(v));
  };
  if (!s.pattern) {
    const unit = fc.oneof(fc.constantFrom(...SPICE), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }));
    return fc.oneof(
      { weight: 4, arbitrary: fc.string({ unit, minLength, maxLength }) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: maxLength, maxLength }) },
    ).filter(fits);
  }
  // `^(?!lookahead)[class]+$`: generate from the class one code point at a time, then check the whole pattern.
  const single = /^\^(?:\(\?![^)]*\))?(\[(?:\\.|[^\]])+\])\+\$$/.exec(s.pattern);
  if (single) {
    const cls = single[1]!;
    const charRe = new RegExp(`^${cls}$`, 'u');
    const unit = cls.startsWith('[^')
      ? fc.oneof(
        { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }).filter((c) => charRe.test(c)) },
        { weight: 2, arbitrary: fc.constantFrom(...SPICE.filter((x) => [...x].every((c) => charRe.test(c)))) },
        { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => charRe.test(c)) },
      )
      : fc.stringMatching(charRe);
    const shortMax = Math.min(maxLength, Math.max(minLength, opts.maxChars));
    return fc.oneof(
      { weight: 5, arbitrary: fc.string({ unit, minLength, maxLength: shortMax }) },
      { weight: 1, arbitrary: fc.string({ unit, minLength: s.maxLength ?? shortMax, maxLength: s.maxLength ?? shortMax }) },
    ).filter(fits);
  }
  return fc.stringMatching(full!).filter(fits);
}

function integerArbitrary(s: JsonSchema): fc.Arbitrary<number> {
  const min = s.minimum ?? -(2 ** 31);
  const max = s.maximum ?? 2 ** 31 - 1;
  const body = max - min <= 2 ** 32
    ? fc.integer({ min, max })
    : fc.bigInt({ min: BigInt(min), max: BigInt(max) }).map(Number);
  return fc.oneof({ weight: 4, arbitrary: body }, { weight: 1, arbitrary: fc.constantFrom(min, max) });
}

/** An arbitrary of values the schema accepts (checked by the caller with the compiled validator). */
export function arbitraryFor(store: SchemaStore, at: Located, opts: GenOptions = DEFAULT_GEN): fc.Arbitrary<unknown> {
  const node = deref(store, at);
  const s = node.schema;
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  if (s.anyOf) return fc.oneof(...s.anyOf.map((_: unknown, i: number) => arbitraryFor(store, child(node, 'anyOf', String(i)), opts)));
  if (s.if) return fc.oneof(arbitraryFor(store, child(node, 'then'), opts), arbitraryFor(store, child(node, 'else'), opts));
  if (Array.isArray(s.type)) {
    return fc.oneof(...s.type.map((t: string) => arbitraryFor(store, { ...node, schema: { ...s, type: t } }, opts)));
  }
  switch (s.type) {
    case 'null': return fc.constant(null);
    case 'string': return stringArbitrary(s, opts);
    case 'integer': return integerArbitrary(s);
    case 'boolean': return fc.boolean();
    case 'array': {
      const minLength = s.minItems ?? 0;
      const maxLength = Math.max(minLength, Math.min(s.maxItems ?? opts.maxItems, opts.maxItems));
      return fc.array(arbitraryFor(store, child(node, 'items'), opts), { minLength, maxLength });
    }
    case 'object': {
      const props = Object.keys(s.properties ?? {});
      const model = Object.fromEntries(props.map((p) => [p, arbitraryFor(store, child(node, 'properties', p), opts)]));
      return fc.record(model, { requiredKeys: s.required ?? [], noNullPrototype: true });
    }
    default:
      throw new Error(`spec-kit cannot generate ${JSON.stringify(s).slice(0, 120)} (${node.file}#${node.pointer}); teach arbitraryFor`);
  }
}

/** Valid messages of one spec message, each checked against the test-time validator. */
export function validMessages(m: SpecMessage, opts?: GenOptions): fc.Arbitrary<Record<string, unknown>> {
  const store = loadSchemas();
  const validate = store.validators.get(m.key)!;
  return arbitraryFor(store, messageSchema(store, m), opts).filter((v) => validate(v)) as fc.Arbitrary<Record<string, unknown>>;
}

// ---------------------------------------------------------------------------------------------
// Invalid variants from a schema's `required` and `properties`
// ---------------------------------------------------------------------------------------------

export type VariantKind = 'missing' | 'wrong type' | 'limit' | 'unknown field';

export interface Variant {
  kind: VariantKind;
  /** The offending field as a reason names it: `udpPort`, `files[0].name`. */
  field: string;
  what: string;
  value: Record<string, unknown>;
}

const displayPath = (parts: Array<string | number>) =>
  parts.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');

function setAt(root: any, parts: Array<string | number>, value: unknown): any {
  const copy = structuredClone(root);
  let node = copy;
  for (const p of parts.slice(0, -1)) node = node[p];
  node[parts.at(-1)!] = value;
  return copy;
}

function deleteAt(root: any, parts: Array<string | number>): any {
  const copy = structuredClone(root);
  let node = copy;
  for (const p of parts.slice(0, -1)) node = node[p];
  delete node[parts.at(-1)!];
  return copy;
}

/** Values of the wrong JSON type for a schema node. */
function wrongTypes(store: SchemaStore, at: Located): unknown[] {
  const s = deref(store, at).schema;
  if (s.const !== undefined) return [42];
  const types = new Set<string>(
    s.anyOf ? s.anyOf.flatMap((_: JsonSchema, i: number) => deref(store, child(at, 'anyOf', String(i))).schema.type ?? [])
      : s.if ? ['string', 'object'] : [s.type].flat(),
  );
  const out: unknown[] = [];
  if (!types.has('string')) out.push('7');
  if (!types.has('integer') && !types.has('number')) out.push(7);
  if (types.has('integer')) out.push(1.5);
  if (!types.has('array')) out.push([]);
  if (!types.has('object')) out.push({});
  if (!types.has('boolean')) out.push(true);
  return out;
}

/** Values just past each limit of a schema node (maximum, maxLength, pattern, maxItems, ...). */
function pastLimits(store: SchemaStore, at: Located, current: unknown): Array<{ what: string; value: unknown }> {
  const s = deref(store, at).schema;
  const out: Array<{ what: string; value: unknown }> = [];
  if (s.anyOf) {
    for (let i = 0; i < s.anyOf.length; i++) out.push(...pastLimits(store, child(deref(store, at), 'anyOf', String(i)), current));
    return out;
  }
  if (s.if) {
    const branch = typeof current === 'string' ? 'then' : 'else';
    return pastLimits(store, child(deref(store, at), branch), current);
  }
  if (s.maximum !== undefined) out.push({ what: `maximum ${s.maximum} + 1`, value: s.maximum + 1 });
  if (s.minimum !== undefined) out.push({ what: `minimum ${s.minimum} - 1`, value: s.minimum - 1 });
  if (s.enum) out.push({ what: 'not in enum', value: `not-${s.enum[0]}` });
  if (s.type === 'string' || (Array.isArray(s.type) && s.type.includes('string'))) {
    const base = typeof current === 'string' && current.length > 0 ? current : 'a';
    const filler = [...base].at(-1)!;
    const len = (v: string) => [...v].length;
    if (s.maxLength !== undefined) out.push({ what: `maxLength ${s.maxLength} + 1`, value: base + filler.repeat(s.maxLength + 1 - len(base)) });
    if (s.minLength) out.push({ what: `minLength ${s.minLength} - 1`, value: [...base.padEnd(s.minLength, filler)].slice(0, s.minLength - 1).join('') });
    if (s.pattern) {
      const re = new RegExp(s.pattern, 'u');
      const n = Math.max(s.minLength ?? 1, 3);
      const candidates = ['a b', 'a/b', '..', '.', 'a\u0000b', 'a\\b', 'G'.repeat(n), 'é'.repeat(n), '1.2.3.256', `${'x'.repeat(n)}!`];
      const bad = candidates.find((c) => len(c) >= (s.minLength ?? 0) && len(c) <= (s.maxLength ?? Infinity) && !re.test(c));
      if (bad !== undefined) out.push({ what: `pattern ${s.pattern.length > 40 ? `${s.pattern.slice(0, 40)}…` : s.pattern}`, value: bad });
    }
  }
  if (s.type === 'array') {
    const items = Array.isArray(current) ? current : [];
    if (s.maxItems !== undefined && items.length > 0) {
      out.push({ what: `maxItems ${s.maxItems} + 1`, value: Array.from({ length: s.maxItems + 1 }, () => structuredClone(items[0])) });
    }
    if (s.minItems) out.push({ what: `minItems ${s.minItems} - 1`, value: items.slice(0, s.minItems - 1) });
  }
  return out;
}

/** Every invalid variant of a valid message that the schema's `required` and `properties` suggest. */
export function invalidVariants(store: SchemaStore, m: SpecMessage, valid: Record<string, unknown>): Variant[] {
  const out: Variant[] = [];
  const walk = (at: Located, value: any, parts: Array<string | number>) => {
    const node = deref(store, at);
    const s = node.schema;
    if (s.if) return walk(child(node, typeof value === 'string' ? 'then' : 'else'), value, parts);
    if (s.type === 'array' && Array.isArray(value)) {
      // The first item of each JSON kind (PUBLISH mixes names and entries).
      const seen = new Set<string>();
      value.forEach((item, i) => {
        const kind = item === null ? 'null' : Array.isArray(item) ? 'array' : typeof item;
        if (seen.has(kind)) return;
        seen.add(kind);
        const items = child(node, 'items');
        const p = [...parts, i];
        for (const w of wrongTypes(store, items)) out.push({ kind: 'wrong type', field: displayPath(p), what: `item ${JSON.stringify(w)}`, value: setAt(valid, p, w) });
        for (const l of pastLimits(store, items, item)) out.push({ kind: 'limit', field: displayPath(p), what: l.what, value: setAt(valid, p, l.value) });
        walk(items, item, p);
      });
      return;
    }
    if (s.type !== 'object' || value === null || typeof value !== 'object') return;
    for (const field of s.required ?? []) {
      if (field in value) out.push({ kind: 'missing', field: displayPath([...parts, field]), what: 'deleted', value: deleteAt(valid, [...parts, field]) });
    }
    for (const field of Object.keys(s.properties ?? {})) {
      if (!(field in value)) continue;
      const p = [...parts, field];
      const prop = child(node, 'properties', field);
      for (const w of wrongTypes(store, prop)) out.push({ kind: 'wrong type', field: displayPath(p), what: JSON.stringify(w), value: setAt(valid, p, w) });
      for (const l of pastLimits(store, prop, value[field])) out.push({ kind: 'limit', field: displayPath(p), what: l.what, value: setAt(valid, p, l.value) });
      walk(prop, value[field], p);
    }
    if (s.additionalProperties === false) {
      out.push({ kind: 'unknown field', field: 'unexpected', what: 'extra field', value: setAt(valid, [...parts, 'unexpected'], 1) });
    }
  };
  walk(messageSchema(store, m), valid, []);
  return out;
}
