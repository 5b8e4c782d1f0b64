// The shell's way in and out: it starts registered (a piped `list` works alone), `register --share`
// publishes the share, and at a terminal Ctrl-C clears a half-typed line, says how to leave on an
// empty one, and leaves on the second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runShell } from '../../src/cli/shell.js';
import { noStackTrace, runPeer, tempDir } from '../helpers/cli.js';
import { uniqueName } from '../helpers/server.js';
import { startTestnet } from '../helpers/testnet.js';

test('the shell starts registered: a piped list needs no register first', async (t) => {
  const net = await startTestnet(t, { peers: [{ files: { 'song.txt': 'la' } }] });
  const name = uniqueName('bob');
  const run = await runPeer(['--name', name, '--server', `127.0.0.1:${net.server.target.port}`, '--host', '127.0.0.1'], 'list\n', { t });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, new RegExp(`^registered as ${name}: tcp 127\\.0\\.0\\.1:\\d+`, 'm'));
  assert.match(run.stdout, new RegExp(`${net.peers[0]!.name}\\s+127\\.0\\.0\\.1:\\d+\\s+1\\s+song\\.txt`));
  noStackTrace(run.stderr);
  assert.equal(net.server.registry.peer(name), undefined, 'quitting de-registered it');
});

test('register --share publishes every file of the share folder; plain register publishes none yet', async (t) => {
  const net = await startTestnet(t);
  const share = await tempDir(t, 'share');
  await writeFile(join(share, 'a.txt'), 'a');
  await writeFile(join(share, 'b.txt'), 'b');
  const name = uniqueName('carol');
  const script = ['register', 'register --share', 'files'].join('\n');
  const run = await runPeer(['shell', '--name', name, '--server', `127.0.0.1:${net.server.target.port}`, '--share', share, '--host', '127.0.0.1', '--json'], `${script}\n`, { t });
  assert.equal(run.code, 0, run.stderr);
  const replies = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { command?: string; result?: { sharedFiles?: number; files?: Array<{ shared: boolean }> } });
  const registers = replies.filter((r) => r.command === 'register');
  assert.deepEqual(registers.map((r) => r.result?.sharedFiles), [0, 2]);
  assert.deepEqual(replies.find((r) => r.command === 'files')?.result?.files?.map((f) => f.shared), [true, true]);
});

test('at a terminal, Ctrl-C clears a half-typed line; on an empty line it says how to leave, and a second one leaves', async (t) => {
  const net = await startTestnet(t, { peers: 1 });
  const input = new PassThrough();
  const output = new PassThrough();
  const errors = new PassThrough();
  let shown = '';
  let errorsShown = '';
  output.setEncoding('utf8').on('data', (text: string) => (shown += text));
  errors.setEncoding('utf8').on('data', (text: string) => (errorsShown += text));
  const until = async (what: RegExp) => {
    for (const deadline = Date.now() + 15_000; !what.test(shown); await new Promise((resolve) => setTimeout(resolve, 10))) {
      if (Date.now() > deadline) assert.fail(`no ${what} in:\n${shown}\nerrors:\n${errorsShown}`);
    }
  };
  const ended = runShell({ peer: net.peers[0]!.peer, input, output, errors, interactive: true, json: false, outDir: await tempDir(t, 'out') });
  await until(/registered as .*\n/);

  input.write('lis');
  input.write('\x03'); // Ctrl-C: the half-typed "lis" is gone…
  input.write('help\r'); // …so this line is "help", not "lishelp"
  await until(/quit\s+de-register/);
  assert.doesNotMatch(errorsShown, /unknown command/);

  input.write('\x03');
  await until(/press Ctrl-C again, Ctrl-D or type quit to leave/);
  input.write('\x03');
  assert.deepEqual(await ended, { code: 0 });
});
