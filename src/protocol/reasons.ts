// Turns the first ajv error into a sentence a person can act on, naming the field and the rule:
// `udpPort must be an integer from 1 to 65535, got 70000`.
import type { ErrorObject } from 'ajv';

const MAX_SHOWN_CHARS = 40;

/** Direction overrides are legal in names but would let a quoted value reorder the sentence around it. */
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

export function reasonFromSchemaError(error: ErrorObject, messageType: string): string {
  const field = fieldName(error.instancePath);
  const schema = (error.parentSchema ?? {}) as Record<string, any>;
  const got = `got ${show(error.data)}`;
  const p = error.params as Record<string, any>;
  switch (error.keyword) {
    case 'required':
      return `${join(field, p.missingProperty)} is required`;
    case 'additionalProperties': {
      const allowed = Object.keys(schema.properties ?? {}).join(', ');
      const where = field ? `${field} has` : `${messageType} has`;
      return `${where} unknown field ${show(p.additionalProperty)}; allowed fields are ${allowed}`;
    }
    case 'type':
      if (schema.type === 'object' && schema['x-rule']) return `${field} ${schema['x-rule']}, ${got}`;
      if (isIntegerRange(schema)) return `${field} must be an integer from ${schema.minimum} to ${schema.maximum}, ${got}`;
      return `${field} must be ${withArticle(p.type)}, ${got}`;
    case 'minimum':
    case 'maximum':
      if (isIntegerRange(schema)) return `${field} must be an integer from ${schema.minimum} to ${schema.maximum}, ${got}`;
      return `${field} must be ${error.keyword === 'minimum' ? 'at least' : 'at most'} ${p.limit}, ${got}`;
    case 'minLength':
    case 'maxLength':
      return `${field} must be ${lengthRule(schema)}, got ${codePoints(error.data)}`;
    case 'pattern':
      return `${field} ${show(error.data)} ${schema['x-rule'] ?? `must match ${schema.pattern}`}`;
    case 'minItems':
    case 'maxItems':
      return `${field} must hold ${itemsRule(schema)}, got ${Array.isArray(error.data) ? error.data.length : '?'}`;
    case 'const':
      return `${field} must be ${show(p.allowedValue)}, ${got}`;
    case 'enum':
      return `${field} must be one of ${(p.allowedValues as unknown[]).map(show).join(', ')}, ${got}`;
    default:
      return `${field || messageType} ${error.message ?? 'is invalid'}`;
  }
}

/** `/files/3/name` → `files[3].name`. */
export function fieldName(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : join(acc, part)), '');
}

/** A value as a reason quotes it: strings JSON-quoted and shortened, containers by kind. */
export function show(value: unknown): string {
  if (typeof value === 'string') {
    const chars = [...value];
    const shown = chars.length > MAX_SHOWN_CHARS ? `${chars.slice(0, MAX_SHOWN_CHARS).join('')}…` : value;
    return JSON.stringify(shown).replace(BIDI_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return String(value);
}

const join = (parent: string, child: string) => (parent ? `${parent}.${child}` : child);
const isIntegerRange = (s: Record<string, any>) => s.type === 'integer' && s.minimum !== undefined && s.maximum !== undefined;
const codePoints = (v: unknown) => (typeof v === 'string' ? `${[...v].length}` : '?');

function withArticle(type: string | string[]): string {
  const types = Array.isArray(type) ? type : String(type).split(',');
  const one = (t: string) => (t === 'null' ? 'null' : `${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t}`);
  return types.map(one).join(' or ');
}

function lengthRule(s: Record<string, any>): string {
  const min = s.minLength ?? 0;
  if (s.maxLength === undefined) return `at least ${min} characters long`;
  if (min === s.maxLength) return `exactly ${min} characters long`;
  return `${min} to ${s.maxLength} characters long`;
}

function itemsRule(s: Record<string, any>): string {
  const min = s.minItems ?? 0;
  return s.maxItems === undefined ? `at least ${min} entries` : `${min} to ${s.maxItems} entries`;
}
