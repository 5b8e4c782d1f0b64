// Loads schemas/ as raw JSON (never the parser's dereferenced copy: ajv strict mode and
// json-schema-to-typescript both need the original `$ref`s and `$defs` names).
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';

export type JsonSchema = Record<string, any>;

/** The base every schema file is registered under in ajv, so relative `$ref`s resolve as on disk. */
export const SCHEMA_BASE = 'https://p2fs.invalid/';

export interface SchemaSet {
  /** Project-relative path (schemas/udp/register.json) → parsed schema. */
  files: Map<string, JsonSchema>;
  common: JsonSchema;
}

export async function loadSchemas(dir = 'schemas'): Promise<SchemaSet> {
  const files = new Map<string, JsonSchema>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.json')) continue;
    const file = path.join(entry.parentPath, entry.name);
    files.set(file, JSON.parse(await readFile(file, 'utf8')));
  }
  const common = files.get(path.join(dir, 'common.json'));
  if (!common) throw new Error(`${dir}/common.json is missing`);
  return { files, common };
}

export const schemaId = (file: string) => SCHEMA_BASE + file;

/** Follows a `$ref` of the form `../common.json#/$defs/x` or `#/$defs/x` to the common definition. */
export function resolveCommon(set: SchemaSet, schema: JsonSchema): JsonSchema {
  let current = schema;
  for (let hops = 0; current.$ref && hops < 10; hops++) {
    const name = String(current.$ref).split('#/$defs/')[1];
    if (!name || !set.common.$defs[name]) throw new Error(`unresolvable $ref ${current.$ref}`);
    current = { ...set.common.$defs[name], ...withoutRef(current) };
  }
  return current;
}

function withoutRef(schema: JsonSchema): JsonSchema {
  const { $ref: _ref, ...rest } = schema;
  return rest;
}
