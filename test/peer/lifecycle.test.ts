// How the peer's commands start and stop, on real processes: a signal during `get` keeps the .part
// file, de-registers and exits 128 + the signal's number; the next get resumes; a name left
// registered by a killed run is taken back on this machine, and refused with the time it has left
// on another; serve stops cleanly on SIGHUP; `serve --ui` on a busy port registers nothing.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { noStackTrace, runPeer, startPeerProcess, tempDir } from '../helpers/cli.js';
import { uniqueName } from '../helpers/server.js';
import { startTestnet, type Testnet } from '../helpers/testnet.js';
import { startSlowHolder } from '../ui/helpers.js';

/** Big enough that a throttled holder takes seconds to send it, small enough to resume in a blink. */
const FILE_BYTES = 1_000_000;
const SLOW_BYTES_PER_SECOND = 100_000;

interface Sharing {
  net: Testnet;
  target: string;
  file: string;
  content: Buffer;
  /** Makes the file available from a holder sending at this rate (closing the one before). */
  holdAt(bytesPerSecond: number): Promise<void>;
}

/**
 * A server and a peer holding a binary file, reachable only through a relay that sends at a chosen
 * rate (the peer itself is not registered), so a download can be caught mid-way.
 */
async function shareThroughRelay(t: TestContext, server: { expireAfterMs?: number } = {}): Promise<Sharing> {
  const file = 'big.bin';
  const content = randomBytes(FILE_BYTES);
  const net = await startTestnet(t, { peers: [{ files: { [file]: content }, register: false }], server });
  const origin = net.peers[0]!.peer;
  const entry = { name: file, size: content.length, sha256: createHash('sha256').update(content).digest('hex') };
  let relay: { close(): Promise<void> } | undefined;
  return {
    net,
    file,
    content,
    target: `127.0.0.1:${net.server.target.port}`,
    async holdAt(bytesPerSecond) {
      await relay?.close();
      relay = await startSlowHolder(t, {
        server: net.server.target, name: uniqueName('holder'), target: { host: '127.0.0.1', port: origin.contact.tcpPort }, files: [entry], bytesPerSecond,
      });
    },
  };
}

/** A `get` of the shared file under `name`, stopped by `signal` once a tenth of it has arrived. */
async function interruptedGet(t: TestContext, sharing: Sharing, out: string, name: string, signal: NodeJS.Signals, env: Record<string, string> = {}) {
  const get = startPeerProcess(['get', sharing.file, '--name', name, '--server', sharing.target, '--out', out, '--host', '127.0.0.1'], { t, env });
  await get.waitFor(/big\.bin: [1-9]\d*%/, 'stderr');
  get.child.kill(signal);
  return { get, ...(await get.exited) };
}

test('Ctrl-C, SIGTERM and SIGHUP during get keep the .part file, de-register and exit 130, 143, 129; the next get resumes', async (t) => {
  const sharing = await shareThroughRelay(t);
  await sharing.holdAt(SLOW_BYTES_PER_SECOND);
  const out = await tempDir(t, 'out');
  const part = join(out, `${sharing.file}.part`);
  let kept = 0;
  for (const [signal, expected] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    const name = uniqueName('henry');
    const { get, code } = await interruptedGet(t, sharing, out, name, signal);
    assert.equal(code, expected, `${signal}: exit code\n${get.stderr}`);
    assert.match(get.stderr, new RegExp(`${signal}: download interrupted, .* kept in ${part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; the same get resumes from there`));
    noStackTrace(get.stderr);
    const size = (await stat(part)).size;
    assert.ok(size > kept, `${signal}: the .part file grew (${kept} → ${size} bytes)`);
    kept = size;
    assert.equal(sharing.net.server.registry.peer(name), undefined, `${signal}: the peer de-registered before exiting`);
  }

  await sharing.holdAt(1e9);
  const resumed = await runPeer(['get', sharing.file, '--server', sharing.target, '--out', out, '--host', '127.0.0.1', '--json'], '', { t });
  assert.equal(resumed.code, 0, resumed.stderr);
  const summary = JSON.parse(resumed.stdout.trim().split('\n').at(-1)!) as { ok: boolean; resumedFromChunk: number };
  assert.ok(summary.ok && summary.resumedFromChunk > 1, `resumed after the kept chunks: ${resumed.stdout}`);
  assert.deepEqual(await readFile(join(out, sharing.file)), sharing.content);
  await assert.rejects(stat(part), 'the .part file is gone once the file is whole');
});

test('a name left registered by a killed run is taken back on this machine; elsewhere the refusal says when it expires', async (t) => {
  const sharing = await shareThroughRelay(t, { expireAfterMs: 300_000 });
  await sharing.holdAt(SLOW_BYTES_PER_SECOND);
  const out = await tempDir(t, 'out');
  const name = uniqueName('henry');
  const { code, signal } = await interruptedGet(t, sharing, out, name, 'SIGKILL');
  assert.equal(signal, 'SIGKILL', `killed (exit ${code})`);
  assert.ok(sharing.net.server.registry.peer(name), 'a killed get leaves its name registered');

  // Another machine (another state folder) holds no token for the name: refused, with what to do.
  const elsewhere = await tempDir(t, 'elsewhere');
  const refused = await runPeer(['get', sharing.file, '--name', name, '--server', sharing.target, '--out', out, '--host', '127.0.0.1'], '', { t, env: { P2FS_STATE_DIR: elsewhere } });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`name "${name}" is already registered by another client; last heard from \\d+ s ago; if that peer is gone, the name expires in [1-5] min.*: wait, or pick another name$`, 'm'));
  noStackTrace(refused.stderr);

  // This machine kept the token: the name comes back at once, and the download resumes.
  await sharing.holdAt(1e9);
  const again = await runPeer(['get', sharing.file, '--name', name, '--server', sharing.target, '--out', out, '--host', '127.0.0.1', '--json'], '', { t });
  assert.equal(again.code, 0, again.stderr);
  assert.ok((JSON.parse(again.stdout.trim().split('\n').at(-1)!) as { resumedFromChunk: number }).resumedFromChunk > 1, again.stdout);
  assert.deepEqual(await readFile(join(out, sharing.file)), sharing.content);
  assert.equal(sharing.net.server.registry.peer(name), undefined, 'and de-registered at the end');
});

test('serve stops cleanly on SIGHUP: de-registers and exits 0', async (t) => {
  const net = await startTestnet(t);
  const share = await tempDir(t, 'share');
  await writeFile(join(share, 'a.txt'), 'a');
  const name = uniqueName('alice');
  const serve = startPeerProcess(['serve', '--share', share, '--name', name, '--server', `127.0.0.1:${net.server.target.port}`, '--host', '127.0.0.1'], { t });
  await serve.waitFor(/^serving 1 file /m);
  assert.ok(net.server.registry.peer(name)?.files.has('a.txt'));
  serve.child.kill('SIGHUP');
  const { code } = await serve.exited;
  assert.equal(code, 0, serve.stderr);
  assert.match(serve.stdout, /^SIGHUP: de-registering and stopping$/m);
  assert.match(serve.stdout, new RegExp(`^de-registered ${name}$`, 'm'));
  assert.equal(net.server.registry.peer(name), undefined);
});

test('serve --ui on a busy port exits 2 before registering anything', async (t) => {
  const net = await startTestnet(t);
  const busy = createServer();
  busy.listen(0, '127.0.0.1');
  await once(busy, 'listening');
  t.after(() => busy.close());
  const port = (busy.address() as { port: number }).port;
  const share = await tempDir(t, 'share');
  const name = uniqueName('alice');
  const serve = await runPeer(['serve', '--share', share, '--name', name, '--server', `127.0.0.1:${net.server.target.port}`, '--ui', String(port)], '', { t });
  assert.equal(serve.code, 2, serve.stderr);
  assert.match(serve.stderr, new RegExp(`--ui ${port}: the port is in use`));
  noStackTrace(serve.stderr);
  assert.equal(net.server.registry.peer(name), undefined, 'never registered');
  assert.equal(net.server.stats().requests.REGISTER, 0, 'not even tried');
});
