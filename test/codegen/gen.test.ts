// `npm run gen`: the committed generated files are fresh, a schema change flows into the types, the
// validators and the protocol reference together, and a change to the transfer's WebAssembly kernel
// into its assembled module (shown on a copy of the project in a temp dir).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../spec/spec-kit.js';

const KERNEL = 'src/generated/text-kernel-wasm.ts';
const GENERATED = ['src/generated/types.ts', 'src/generated/validators.js', 'src/generated/validators.d.ts', 'src/generated/catalogue.ts', 'docs/protocol.md', 'docs/errors.md', KERNEL];
const KERNEL_SOURCE = 'src/transfer/simd/text-kernel.wat';
const SPEC_INPUTS = ['asyncapi.yaml', 'schemas', 'scripts/codegen', 'src/errors', 'scripts/gen.ts', 'src/generated', 'docs/protocol.md', 'docs/errors.md', KERNEL_SOURCE, 'package.json', 'tsconfig.json'];

interface Run { code: number; stdout: string; stderr: string }

function run(cwd: string, command: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const gen = (cwd: string, ...args: string[]) => run(cwd, 'npm', ['run', '--silent', 'gen', '--', ...args]);

describe('code generation', () => {
  test('`npm run gen -- --check` passes on the committed tree', async () => {
    const result = await gen(ROOT, '--check');
    assert.equal(result.code, 0, `gen --check failed:\n${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /generated files are fresh/);
  });

  test('the generated validators are ES modules: no require(', async () => {
    const js = await readFile(path.join(ROOT, 'src/generated/validators.js'), 'utf8');
    assert.ok(!js.includes('require('), 'a require( in src/generated/validators.js throws under "type": "module"');
    assert.match(js, /^import \w+ from "ajv\/dist\/runtime\/[\w.]+\.js";$/m);
  });

  describe('a schema change regenerates types, validators and docs together', () => {
    let dir = '';
    const original = new Map<string, string>();
    const NEW_FIELD = 'nickname';
    const DESCRIPTION = 'A display name other peers may show (added by test/codegen/gen.test.ts).';

    before(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'p2fs-gen-'));
      for (const input of SPEC_INPUTS) await cp(path.join(ROOT, input), path.join(dir, input), { recursive: true });
      await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
      for (const file of GENERATED) original.set(file, await readFile(path.join(dir, file), 'utf8'));
    });
    after(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    test('adding an optional field to schemas/udp/register.json makes --check fail', async () => {
      const file = path.join(dir, 'schemas/udp/register.json');
      const schema = JSON.parse(await readFile(file, 'utf8'));
      assert.ok(!(NEW_FIELD in schema.properties));
      schema.properties[NEW_FIELD] = { type: 'string', maxLength: 24, description: DESCRIPTION };
      await writeFile(file, `${JSON.stringify(schema, null, 2)}\n`);
      const result = await gen(dir, '--check');
      assert.notEqual(result.code, 0, 'a stale tree passed --check');
      // Exactly these are stale: the copy was otherwise fresh, and a new field adds no message.
      const named = GENERATED.filter((file) => result.stderr.includes(file));
      assert.deepEqual(named, ['src/generated/types.ts', 'src/generated/validators.js', 'docs/protocol.md'], result.stderr);
      for (const file of GENERATED) assert.equal(await readFile(path.join(dir, file), 'utf8'), original.get(file), `--check wrote ${file}`);
    });

    test('`npm run gen` rewrites types.ts, validators.js and docs/protocol.md with the field', async () => {
      const result = await gen(dir);
      assert.equal(result.code, 0, result.stderr);
      const now = async (file: string) => readFile(path.join(dir, file), 'utf8');

      const types = await now('src/generated/types.ts');
      const register = /export interface RegisterRequest \{[\s\S]*?\n\}/.exec(types)?.[0] ?? '';
      assert.match(register, new RegExp(`\\n  ${NEW_FIELD}\\?: string;`), `RegisterRequest lacks ${NEW_FIELD}?: string:\n${register}`);
      assert.ok(register.includes(DESCRIPTION), 'the description becomes the field\'s doc comment');

      const validators = await now('src/generated/validators.js');
      assert.ok(validators.includes(`"${NEW_FIELD}"`), 'validators.js knows the field');
      assert.ok(!validators.includes('require('), 'no require( after regeneration');

      const docs = await now('docs/protocol.md');
      const section = docs.slice(docs.indexOf('### REGISTER (RegisterRequest)'), docs.indexOf('### REGISTERED'));
      assert.match(section, new RegExp(`\\| \`${NEW_FIELD}\` \\| string \\| no \\| ${DESCRIPTION.replace(/[.()/]/g, '\\$&')} 0 to 24 characters\\. \\|`));

      for (const file of ['src/generated/types.ts', 'src/generated/validators.js', 'docs/protocol.md']) {
        assert.notEqual(await now(file), original.get(file), `${file} did not change`);
      }
      for (const file of ['src/generated/catalogue.ts', 'src/generated/validators.d.ts']) {
        assert.equal(await now(file), original.get(file), `${file} changed although no message was added`);
      }
    });

    test('the regenerated validator accepts the field, enforces its limit, and the tree is fresh again', async () => {
      const fresh = await gen(dir, '--check');
      assert.equal(fresh.code, 0, fresh.stderr);
      const V = await import(pathToFileURL(path.join(dir, 'src/generated/validators.js')).href);
      const base = { type: 'REGISTER', rq: 1, name: 'alice', ip: '192.0.2.10', udpPort: 5001, tcpPort: 6001 };
      assert.equal(V.RegisterRequest({ ...base, [NEW_FIELD]: 'Al' }), true);
      assert.equal(V.RegisterRequest({ ...base, [NEW_FIELD]: 'x'.repeat(25) }), false);
      assert.equal(V.RegisterRequest.errors[0].instancePath, `/${NEW_FIELD}`);
      const committed = await import('../../src/generated/validators.js');
      assert.equal(committed.RegisterRequest({ ...base, [NEW_FIELD]: 'Al' }), false, 'the committed validator refuses the unknown field');
    });

    test('the regenerated code type-checks', async () => {
      const result = await run(dir, path.join(ROOT, 'node_modules/.bin/tsc'), ['--noEmit', '-p', '.']);
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    });

    test('a change to the kernel source makes --check fail on the assembled module alone, and gen reassembles it', async () => {
      const file = path.join(dir, KERNEL_SOURCE);
      const source = await readFile(file, 'utf8');
      assert.ok(source.includes('(i32.const 200)'));
      await writeFile(file, source.replaceAll('(i32.const 200)', '(i32.const 199)'));
      const stale = await gen(dir, '--check');
      assert.notEqual(stale.code, 0, 'a stale kernel passed --check');
      assert.deepEqual(GENERATED.filter((generated) => stale.stderr.includes(generated)), [KERNEL], stale.stderr);
      assert.equal(await readFile(path.join(dir, KERNEL), 'utf8'), original.get(KERNEL), '--check wrote the module');
      assert.equal((await gen(dir)).code, 0);
      assert.notEqual(await readFile(path.join(dir, KERNEL), 'utf8'), original.get(KERNEL));
      assert.equal((await gen(dir, '--check')).code, 0);
    });
  });
});
