// A real process is killed with SIGKILL while it writes: every write it had been told was stored
// must be in the file when it is opened again.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { openStore } from '../../src/stores/index.js';

/** Kill the writer once it has reported this many keys, so that it dies in the middle of a stream. */
const KEYS_BEFORE_KILL = 3000;

const dir = mkdtempSync(join(tmpdir(), 'p2fs-durability-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('every key a writer reported stored survives kill -9 of the writer', async () => {
  const url = `sqlite://${join(dir, 'killed.sqlite')}`;
  const writer = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('fixtures/write-until-killed.ts', import.meta.url)), url], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let printed = '';
  writer.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    printed += chunk;
    if (writer.exitCode === null && printed.split('\n').length > KEYS_BEFORE_KILL) writer.kill('SIGKILL');
  });
  const [code, signal] = (await once(writer, 'close')) as [number | null, NodeJS.Signals | null];
  assert.equal(signal, 'SIGKILL', `the writer was to be killed, but exited with code ${code}`);

  const reported = printed.split('\n').filter((line) => line.startsWith('key-'));
  assert.ok(reported.length >= KEYS_BEFORE_KILL, `only ${reported.length} keys reported`);
  const store = await openStore<{ n: number }>(url, 'durability');
  const stored = new Map(await store.entries());
  await store.close();
  const missing = reported.filter((key) => stored.get(key)?.n !== Number(key.slice('key-'.length)));
  assert.deepEqual(missing, [], `${missing.length} of ${reported.length} reported keys are missing or wrong`);
});
