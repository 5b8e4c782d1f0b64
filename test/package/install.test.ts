// The commands as a user installs them: `npm pack`, then `npm install -g` of the tarball into a
// temporary prefix, then `p2fs` and `p2fs-server` run from there with plain node: --version, --help,
// a server started on SQLite, a shell and a get against it, and the server stopped.
//
// Kept well under a minute in two ways. The install is served from npm's cache: --offline first,
// --prefer-offline when the cache lacks the registry's metadata (a fresh machine's first run, which
// then fetches it once; the test skips if the registry cannot be reached either). And it runs no
// install scripts: the one that matters, sqlite3's, compiles SQLite for about a minute, so the
// compiled module of this checkout (node_modules/sqlite3/build) is linked into the installed sqlite3
// instead; the tarball's shrinkwrap pins the same sqlite3 version, which the test checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { peerEnv, ROOT, tempDir } from '../helpers/cli.js';

const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
/** npm as a person runs it: not with the settings of the `npm test` this may run under (npm_config_*…). */
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));

test('npm pack, npm install -g of the tarball: p2fs and p2fs-server work from the temporary prefix', { timeout: 240_000 }, async (t) => {
  const work = await tempDir(t, 'install');
  const { stdout: packed } = await run(NPM, ['pack', '--pack-destination', work, '--silent'], { cwd: ROOT, env: npmEnv, maxBuffer: 16 << 20 });
  const tarball = join(work, packed.trim().split('\n').at(-1)!);
  const prefix = join(work, 'prefix');
  await mkdir(prefix);
  const install = (cacheMode: string) =>
    run(NPM, ['install', '--global', tarball, '--prefix', prefix, cacheMode, '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: work, env: npmEnv, maxBuffer: 16 << 20 });
  try {
    await install('--offline');
  } catch (offline) {
    if (!/ENOTCACHED/.test(String((offline as { stderr?: string }).stderr))) throw offline;
    try {
      await install('--prefer-offline');
    } catch (online) {
      const why = String((online as { stderr?: string }).stderr);
      if (/E(NOTFOUND|CONNREFUSED|AI_AGAIN|TIMEDOUT|NETUNREACH)/.test(why)) return t.skip(`the npm registry cannot be reached and the cache lacks what the install needs: ${why.split('\n')[0]}`);
      throw online;
    }
  }

  const installed = join(prefix, 'lib', 'node_modules', 'p2fs');
  const version = (dir: string) => readFile(join(dir, 'sqlite3', 'package.json'), 'utf8').then((text) => (JSON.parse(text) as { version: string }).version);
  assert.equal(await version(join(installed, 'node_modules')), await version(join(ROOT, 'node_modules')), 'the shrinkwrap pins the sqlite3 this checkout compiled');
  await symlink(join(ROOT, 'node_modules', 'sqlite3', 'build'), join(installed, 'node_modules', 'sqlite3', 'build'), 'dir');
  assert.ok(!existsSync(join(installed, 'node_modules', 'tsx')), 'the installed commands need no tsx');

  const env = { ...peerEnv(), PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
  const command = (name: string, args: string[], input = '') =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(join(prefix, 'bin', name), args, { cwd: work, env });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
      child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
      child.stdin.end(input);
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });

  const { version: packageVersion } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.deepEqual(await command('p2fs', ['--version']), { code: 0, stdout: `p2fs ${packageVersion}\n`, stderr: '' });
  assert.deepEqual(await command('p2fs-server', ['-V']), { code: 0, stdout: `p2fs-server ${packageVersion}\n`, stderr: '' });
  assert.match((await command('p2fs', ['get', '-h'])).stdout, /^usage: p2fs get FILE/m);
  assert.match((await command('p2fs-server', ['--help'])).stdout, /--db URL .*\$P2FS_DB/);

  const server = spawn(join(prefix, 'bin', 'p2fs-server'), ['--host', '127.0.0.1', '--port', '0', '--db', `sqlite://${join(work, 'registry.sqlite')}`, '--log-level', 'warn'], { cwd: work, env });
  t.after(() => server.kill('SIGKILL'));
  let serverOut = '';
  const port = await new Promise<string>((resolve, reject) => {
    server.stdout.setEncoding('utf8').on('data', (text: string) => {
      serverOut += text;
      const match = /listening on udp 127\.0\.0\.1:(\d+) · store sqlite:/.exec(serverOut);
      if (match) resolve(match[1]!);
    });
    server.on('exit', (code) => reject(new Error(`p2fs-server exited (${code}) before listening: ${serverOut}`)));
  });

  const shell = await command('p2fs', ['--name', 'installed', '--server', `127.0.0.1:${port}`], 'list\n');
  assert.equal(shell.code, 0, shell.stderr);
  assert.match(shell.stdout, /^registered as installed: /m);
  assert.match(shell.stdout, /^installed\s+\S+:\d+\s+0/m);
  const get = await command('p2fs', ['get', 'nobody-has-it.txt', '--server', `127.0.0.1:${port}`]);
  assert.equal(get.code, 1);
  assert.match(get.stderr, /nobody shares "nobody-has-it\.txt"/);

  const exited = new Promise((resolve) => server.on('exit', resolve));
  server.kill('SIGTERM');
  assert.equal(await exited, 0);
});
