// Issue 14 on real NATs: network namespaces made by this file (network.ts): the index server and a
// public peer in a "public" namespace, and two LANs behind routers that masquerade with nftables.
// Peers are real processes (`p2fs serve`, `p2fs get`) inside the namespaces. Skipped, with the
// reason, only where namespaces cannot be made; every namespace and process is removed after.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runPeer, startPeerProcess, TSX, type PeerProcess } from '../helpers/cli.js';
import { startServerProcess, type ServerProcess } from '../reliability/server-process.js';
import { createNatNetwork, namespacesUnavailable, PUBLIC_IP, type NatNetwork } from './network.js';

const PORT = 4000;
const SERVER = `${PUBLIC_IP}:${PORT}`;
/** Short, so the mapping test does not wait the default 20 s for the holder's next WHO-AM-I. */
const NAT_KEEPALIVE = '300ms';

let skip = await namespacesUnavailable();
let net: NatNetwork | undefined;
if (!skip) net = await createNatNetwork().catch((error: Error) => ((skip = error.message), undefined));

const children: ChildProcess[] = [];
const root = await mkdtemp(join(tmpdir(), 'p2fs-nat-'));
after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(children.map((child) => (child.exitCode === null && child.signalCode === null ? once(child, 'exit') : undefined)));
  await net?.remove();
  await rm(root, { recursive: true, force: true });
});

/** A shared folder holding one file; returns its path. */
async function shareWith(name: string, file: string, content: string | Buffer): Promise<string> {
  const dir = await mkdtemp(join(root, `${name}-`));
  await writeFile(join(dir, file), content);
  return dir;
}

function serveIn(ns: string, name: string, share: string, extra: string[] = []): PeerProcess {
  const peer = startPeerProcess(['serve', '--name', name, '--share', share, '--server', SERVER, ...extra], { wrap: net!.wrap(ns) });
  children.push(peer.child);
  return peer;
}

async function getIn(ns: string, file: string): Promise<{ code: number | null; stdout: string; stderr: string; content: Buffer | undefined }> {
  const out = await mkdtemp(join(root, 'out-'));
  // Its log (stderr) says how each holder was reached.
  const done = await runPeer(['get', file, '--out', out, '--server', SERVER, '--log-level', 'info'], '', { wrap: net!.wrap(ns) });
  const content = await readFile(join(out, file)).catch(() => undefined);
  return { ...done, content };
}

/** Runs a fixture script inside `ns`; resolves with the process (its output collected). */
function fixtureIn(ns: string, script: string, args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', TSX, join(ROOT, 'test/nat/fixtures', script), ...args], { cwd: ROOT });
  children.push(child);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (output += text));
  return { child, output: () => output };
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let server: ServerProcess | undefined;
let serverLog = '';
const homeText = `behind a NAT\n${'x'.repeat(5000)}\n`;
const publicText = 'from the public internet\n';
let home: PeerProcess | undefined;

// Bound to the public address, not 0.0.0.0: an unbound UDP socket answers from the address of the
// interface it leaves by (198.18.1.1), and a NAT passes only replies from where it sent (198.18.0.1).
if (net) {
  server = await startServerProcess(PORT, 'memory://nat-test', { host: PUBLIC_IP, wrap: net.wrap(net.pub), args: ['--log-level', 'info'] });
  children.push(server.child);
  server.child.stderr!.on('data', (text: Buffer) => (serverLog += text));
  server.child.stdout!.on('data', (text: Buffer) => (serverLog += text));
  const pub = serveIn(net.pub, 'public', await shareWith('public', 'public.txt', publicText), ['--relay']);
  home = serveIn(net.lans[0].ns, 'home', await shareWith('home', 'home.txt', homeText), ['--nat-keepalive', NAT_KEEPALIVE]);
  await Promise.all([pub.waitFor(/^serving 1 file/m), home.waitFor(/^serving 1 file/m)]).catch(async (error: unknown) => {
    // Tests do not run after a failed set-up, nor do their after hooks: clean up here.
    for (const child of children) child.kill('SIGKILL');
    await net!.remove();
    throw error;
  });
}

test('a peer behind a NAT learns it at start-up', { skip }, async () => {
  const line = await home!.waitFor(/^behind a NAT: other peers reach you by callback \(the index server sees you at (\S+)\)$/m);
  assert.match(line[1]!, new RegExp(`^${net!.lans[0].publicIp.replaceAll('.', '\\.')}:\\d+$`));
});

test('holder behind a NAT, downloader public: the download runs by callback', { skip }, async () => {
  const got = await getIn(net!.pub, 'home.txt');
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.content?.toString(), homeText);
  assert.match(serverLog, /connect-back pushed/);
});

test('downloader behind a NAT, holder public: the download connects directly', { skip }, async () => {
  const pushesBefore = serverLog.split('connect-back pushed').length;
  const got = await getIn(net!.lans[1].ns, 'public.txt');
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.content?.toString(), publicText);
  assert.equal(serverLog.split('connect-back pushed').length, pushesBefore, 'no callback was needed');
});

/** How often the relay (at the public address) has asked for a holder's callback to itself. */
const relayCallbacks = () => serverLog.split(`"requester":"${PUBLIC_IP}:`).length;
const punches = () => serverLog.split('"punch":true').length;

test('both behind NATs that keep source ports: a hole is punched (TCP simultaneous open), no relay', { skip }, async () => {
  const [relayedBefore, punchesBefore] = [relayCallbacks(), punches()];
  const got = await getIn(net!.lans[1].ns, 'home.txt');
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.content?.toString(), homeText);
  assert.equal(punches(), punchesBefore + 1, 'one punch was coordinated by the server');
  assert.match(serverLog, new RegExp(`connect-back pushed.*"requester":"${net!.lans[1].publicIp.replaceAll('.', '\\.')}:\\d+".*"punch":true`));
  assert.equal(relayCallbacks(), relayedBefore, `the relay was not needed: ${got.stderr}`);
  assert.match(got.stderr, /"event":"download\.punched","role":"get","holder":"home"/);
});

test('the NAT mapping expires and changes while the peers run: the observed address follows', { skip }, async () => {
  const lan = net!.lans[0];
  const moves = () => [...serverLog.matchAll(/observed address moved.*?"udpPort":(\d+)/g)].map((m) => Number(m[1]));
  const before = moves().length;
  await net!.remap(lan, '41000-41999');
  await until(() => moves().length > before, 10_000, 'the server following the new mapping');
  const port = moves().at(-1)!;
  assert.ok(port >= 41000 && port <= 41999, `moved to the new mapping's port, got ${port}`);
  const got = await getIn(net!.pub, 'home.txt');
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.content?.toString(), homeText);
});

test('both behind NATs, one rewriting source ports: the server refuses the punch, and the relay carries it, verified end to end', { skip }, async () => {
  // Runs after the mapping test: the holder's router now maps to ports 41000-41999.
  const relayedBefore = relayCallbacks();
  const got = await getIn(net!.lans[1].ns, 'home.txt');
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.content?.toString(), homeText);
  assert.match(got.stderr, /"event":"download\.punch-failed".*home's NAT rewrites source ports/, 'the server refused the punch at once');
  // The relay (at the public address) asked for the holder's callback: to itself, not to the downloader.
  assert.ok(relayCallbacks() > relayedBefore, 'the relay asked for the holder\'s callback');
});

test('a connect-back to a forged address is refused: nothing connects to the victim', { skip }, async () => {
  const victim = fixtureIn(net!.pub, 'victim.ts', []);
  await until(() => /LISTENING \d+/.test(victim.output()), 10_000, 'the victim listening');
  const victimPort = Number(/LISTENING (\d+)/.exec(victim.output())![1]);
  const mallory = fixtureIn(net!.lans[1].ns, 'mallory.ts', [JSON.stringify({ server: { host: PUBLIC_IP, port: PORT }, holder: 'home', victim: { ip: PUBLIC_IP, tcpPort: victimPort } })]);
  await until(() => mallory.output().includes('\n'), 15_000, 'mallory finishing');
  const result = JSON.parse(mallory.output()) as { registered: string; withAddress: { type: string; reason: string }; plain: { type: string } };
  assert.equal(result.registered, 'REGISTERED');
  assert.equal(result.withAddress.type, 'CALLBACK-DENIED');
  assert.match(result.withAddress.reason, /unknown field "ip"/);
  // The plain CALLBACK is relayed, to mallory's own (NATed) address, not the victim's.
  assert.equal(result.plain.type, 'CALLBACK-SENT');
  assert.match(serverLog, new RegExp(`connect-back pushed.*"requester":"${net!.lans[1].publicIp.replaceAll('.', '\\.')}:\\d+"`));
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.doesNotMatch(victim.output(), /CONNECTION FROM/);
});
