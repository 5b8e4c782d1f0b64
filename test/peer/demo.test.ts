// `npm run demo` must run unattended to exit 0, showing every course operation's messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('the demo tours every operation, verifies its download and exits 0', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, `demo failed:\n${stderr}\n${stdout.slice(-2000)}`);
  for (const type of ['REGISTER', 'PUBLISH', 'RETRIEVE-ALL', 'RETRIEVE-INFOT', 'SEARCH-FILE', 'SEARCH-WORDS', 'DOWNLOAD', 'UPDATE-CONTACT', 'REMOVE', 'DE-REGISTER']) {
    assert.match(stdout, new RegExp(`→ ${type} \\{`), `the demo shows ${type} crossing`);
  }
  assert.match(stdout, /identical to alice's/);
  assert.match(stdout, /1 file found, best match first\n.*\n.*\npoème d’été\.txt\s+1 /, 'find matched across case and accents');
});
