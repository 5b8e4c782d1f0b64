// Regenerates everything derived from the protocol spec (the error reference from the table of error
// codes, and the transfer's WebAssembly kernel from its .wat source): `npm run gen` writes the
// files, `npm run gen -- --check` (part of `npm run check`) fails when any of them is stale.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { readSpec } from './codegen/spec.js';
import { loadSchemas } from './codegen/schemas.js';
import { emitValidators } from './codegen/validators.js';
import { emitTypes } from './codegen/types.js';
import { emitCatalogue, emitLimits } from './codegen/catalogue.js';
import { emitProtocolDoc } from './codegen/docs.js';
import { emitErrorsDoc } from './codegen/errors-doc.js';
import { emitWasmModule } from './codegen/wasm.js';

const checkOnly = process.argv.includes('--check');

const spec = await readSpec('asyncapi.yaml');
const schemas = await loadSchemas('schemas');
const validators = emitValidators(schemas, spec.messages);

const outputs: Record<string, string> = {
  'src/generated/types.ts': await emitTypes(schemas, spec.messages),
  'src/generated/validators.js': validators.js,
  'src/generated/validators.d.ts': validators.dts,
  'src/generated/catalogue.ts': emitCatalogue(spec, schemas),
  'src/generated/limits.ts': emitLimits(spec, schemas),
  'docs/protocol.md': emitProtocolDoc(spec, schemas),
  'docs/errors.md': emitErrorsDoc(),
  'src/generated/text-kernel-wasm.ts': await emitWasmModule('src/transfer/simd/text-kernel.wat', 'TEXT_KERNEL_WASM'),
};

const stale: string[] = [];
for (const [file, content] of Object.entries(outputs)) {
  const current = await readFile(file, 'utf8').catch(() => null);
  if (current === content) continue;
  stale.push(file);
  if (!checkOnly) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
}

const messageCount = spec.messages.length;
if (checkOnly && stale.length > 0) {
  console.error(`Generated files are stale; run \`npm run gen\`:\n  ${stale.join('\n  ')}`);
  process.exit(1);
}
console.log(checkOnly
  ? `asyncapi.yaml valid; ${messageCount} messages; generated files are fresh.`
  : `asyncapi.yaml valid; ${messageCount} messages; ${stale.length ? `wrote ${stale.join(', ')}` : 'nothing changed'}.`);
