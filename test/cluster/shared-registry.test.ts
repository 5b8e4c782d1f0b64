// Three index servers (real processes) on one PostgreSQL registry form one index: names are owned
// through the database, concurrent changes to one peer through different servers all take effect,
// every server sees every change (also after its feed connection is killed, and after it fell behind
// the retained change log), a retry through another server takes effect once, the conformance suite
// passes against the cluster, and a client of several servers rides over one's death.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { IndexClient } from '../../src/client/index.js';
import type { UdpReply } from '../../src/generated/catalogue.js';
import { RawClient, uniqueName, type WireRequest } from '../helpers/server.js';
import { clusterDatabase, eventually, startCluster, type Instance } from './harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const db = await clusterDatabase();
const skip = db.skip;
const cluster = skip ? [] : await startCluster(3, db.url);
const [a, b, c] = cluster as [Instance, Instance, Instance];

let nextRq = 1;
const rq = () => nextRq++;

/** A client socket that may talk to any of the servers, from one source address. */
async function clientOf(t: import('node:test').TestContext, instance: Instance = a): Promise<RawClient> {
  return RawClient.open(instance.address, t);
}

/** Sends `message` to `instance` from `client`'s socket and waits for the reply with its rq. */
async function ask(client: RawClient, instance: Instance, message: WireRequest): Promise<{ reply: UdpReply; bytes: Buffer }> {
  const bytes = Buffer.from(JSON.stringify(message));
  for (let attempt = 0; attempt < 5; attempt++) {
    const seen = client.received().length;
    client.socket.send(bytes, instance.port, '127.0.0.1');
    const got = await client.waitFor((r, i) => i >= seen && r.rq === message.rq, 2000);
    if (got?.reply) return { reply: got.reply, bytes: got.bytes };
  }
  throw new Error(`no reply from ${instance.label} to ${JSON.stringify(message)}`);
}

async function register(client: RawClient, instance: Instance, name: string, tcpPort = 6000): Promise<string> {
  const { reply } = await ask(client, instance, { type: 'REGISTER', rq: rq(), name, ip: client.address.ip, udpPort: client.address.port, tcpPort });
  assert.equal(reply.type, 'REGISTERED', JSON.stringify(reply));
  return (reply as { token: string }).token;
}

async function filesAt(client: RawClient, instance: Instance, name: string, token: string): Promise<string[] | undefined> {
  const files: string[] = [];
  let cursor: string | undefined;
  do {
    const { reply } = await ask(client, instance, { type: 'RETRIEVE-INFOT', rq: rq(), name, token, ...(cursor ? { cursor } : {}) });
    if (reply.type !== 'RETRIEVE-INFOT') return undefined;
    files.push(...reply.files.map((f) => f.name));
    cursor = reply.next;
  } while (cursor);
  return files.sort();
}

test('the name race: 200 rounds of 8 simultaneous REGISTERs of one name over 3 servers give one owner each', { skip }, async (t) => {
  const clients = await Promise.all(Array.from({ length: 8 }, () => clientOf(t)));
  const owners: Array<{ name: string; token: string }> = [];
  const wrong: string[] = [];
  const base = uniqueName('race');
  for (let round = 0; round < 200; round++) {
    const name = `${base}-${round}`;
    const replies = await Promise.all(clients.map((client, i) => ask(client, cluster[i % 3]!, {
      type: 'REGISTER', rq: rq(), name, ip: client.address.ip, udpPort: client.address.port, tcpPort: 7000 + i,
    })));
    const won = replies.filter((r) => r.reply.type === 'REGISTERED');
    if (won.length !== 1) wrong.push(`${name}: ${won.length} REGISTERED`);
    for (const lost of replies.filter((r) => r.reply.type !== 'REGISTERED')) {
      if (lost.reply.type !== 'REGISTER-DENIED' || !/already registered/.test(lost.reply.reason)) wrong.push(`${name}: ${JSON.stringify(lost.reply)}`);
    }
    if (won.length === 1) owners.push({ name, token: (won[0]!.reply as { token: string }).token });
  }
  assert.deepEqual(wrong, []);
  // The database holds each name with the winner's token.
  const rows = await db.query<{ name: string; record: string }>('SELECT name, record FROM p2fs_peers WHERE starts_with(name, $1)', [base]);
  const stored = new Map(rows.map((row) => [row.name, (JSON.parse(row.record) as { token: string }).token]));
  assert.equal(stored.size, 200);
  for (const owner of owners) assert.equal(stored.get(owner.name), owner.token, owner.name);
});

test('concurrent PUBLISH of different files for one peer through 3 servers: every file is listed by every server', { skip }, async (t) => {
  const owner = await clientOf(t);
  const name = uniqueName('publisher');
  const token = await register(owner, a, name);
  const writers = await Promise.all(cluster.map(() => clientOf(t)));
  const expected: string[] = [];
  await Promise.all(writers.map(async (writer, w) => {
    for (let i = 0; i < 15; i++) {
      const file = `through-${w}-${String(i).padStart(2, '0')}.txt`;
      expected.push(file);
      const { reply } = await ask(writer, cluster[w]!, { type: 'PUBLISH', rq: rq(), name, token, files: [file] });
      assert.equal(reply.type, 'PUBLISHED', JSON.stringify(reply));
    }
  }));
  expected.sort();
  for (const instance of cluster) {
    assert.ok(await eventually(async () => JSON.stringify(await filesAt(owner, instance, name, token)) === JSON.stringify(expected)), `${instance.label} lists every file`);
  }
  const [row] = await db.query<{ record: string }>('SELECT record FROM p2fs_peers WHERE name = $1', [name]);
  assert.deepEqual((JSON.parse(row!.record) as { files: Array<{ name: string }> }).files.map((f) => f.name).sort(), expected);
});

test('convergence under a read load: a file published through A is found through B and C', { skip }, async (t) => {
  const publisher = await clientOf(t);
  const name = uniqueName('converge');
  const token = await register(publisher, a, name);
  // Readers keep B and C busy with searches the whole time.
  let reading = true;
  const readers = await Promise.all([b, c, b, c].map(async (instance) => ({ instance, client: await clientOf(t, instance) })));
  const load = readers.map(async ({ instance, client }) => {
    while (reading) await ask(client, instance, { type: 'SEARCH-FILE', rq: rq(), file: 'busy.txt', token });
  });
  const lags: number[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const file = `converge-${i}.txt`;
      assert.equal((await ask(publisher, a, { type: 'PUBLISH', rq: rq(), name, token, files: [file] })).reply.type, 'PUBLISHED');
      const acknowledged = performance.now();
      for (const instance of [b, c]) {
        const found = await eventually(async () => {
          const { reply } = await ask(publisher, instance, { type: 'SEARCH-FILE', rq: rq(), file, token });
          return reply.type === 'SEARCH-FILE' && reply.peers.some((p) => p.name === name);
        }, 10_000, 1);
        assert.ok(found, `${file} reached ${instance.label}`);
      }
      lags.push(performance.now() - acknowledged);
    }
  } finally {
    reading = false;
    await Promise.all(load);
  }
  lags.sort((x, y) => x - y);
  console.log(`cluster: acknowledged on A → found on B and C, under a read load: median ${lags[10]!.toFixed(1)} ms, worst ${lags.at(-1)!.toFixed(1)} ms`);
});

test('a client that moves to another server reads its own writes: a read that would miss waits for them', { skip }, async (t) => {
  const client = await clientOf(t);
  for (let i = 0; i < 30; i++) {
    const name = uniqueName(`ryw${i}`);
    const token = await register(client, a, name);
    // Registered through A a moment ago: B must not answer "register first".
    const listed = await ask(client, b, { type: 'RETRIEVE-INFOT', rq: rq(), name, token });
    assert.equal(listed.reply.type, 'RETRIEVE-INFOT', `${name} through B: ${JSON.stringify(listed.reply)}`);
    // Published through A a moment ago: C must not say nobody shares it.
    const file = `ryw-${i}-${name}.txt`;
    assert.equal((await ask(client, a, { type: 'PUBLISH', rq: rq(), name, token, files: [file] })).reply.type, 'PUBLISHED');
    const found = await ask(client, c, { type: 'SEARCH-FILE', rq: rq(), file, token });
    assert.ok(found.reply.type === 'SEARCH-FILE' && found.reply.peers.some((p) => p.name === name), `${file} through C: ${JSON.stringify(found.reply)}`);
    assert.equal((await ask(client, a, { type: 'DE-REGISTER', rq: rq(), name, token })).reply.type, 'DE-REGISTERED');
  }
});

test('a retry through another server gets the same reply and takes effect once, even a delayed one after a later change', { skip }, async (t) => {
  const peer = await clientOf(t);
  const name = uniqueName('retry');
  await register(peer, a, name);
  const publish = { type: 'PUBLISH', rq: rq(), name, files: ['kept.txt'] };
  const first = await ask(peer, a, publish);
  const again = await ask(peer, b, publish);
  assert.equal(again.bytes.toString(), first.bytes.toString(), 'the same reply, byte for byte');

  // DE-REGISTER, then REGISTER again; a copy of the DE-REGISTER reaching C afterwards changes nothing.
  const leave = { type: 'DE-REGISTER', rq: rq(), name };
  const left = await ask(peer, a, leave);
  assert.equal(left.reply.type, 'DE-REGISTERED');
  const token = await register(peer, a, name, 6001);
  const late = await ask(peer, c, leave);
  assert.equal(late.bytes.toString(), left.bytes.toString());
  // PUBLISH then REMOVE; a late copy of the PUBLISH does not bring the file back.
  const add = { type: 'PUBLISH', rq: rq(), name, token, files: ['gone.txt'] };
  assert.equal((await ask(peer, a, add)).reply.type, 'PUBLISHED');
  assert.equal((await ask(peer, a, { type: 'REMOVE', rq: rq(), name, token, files: ['gone.txt'] })).reply.type, 'REMOVED');
  assert.equal((await ask(peer, b, add)).reply.type, 'PUBLISHED');
  for (const instance of cluster) {
    assert.ok(await eventually(async () => JSON.stringify(await filesAt(peer, instance, name, token)) === '[]'), `${instance.label}: still registered, gone.txt removed`);
  }
  const [row] = await db.query<{ record: string }>('SELECT record FROM p2fs_peers WHERE name = $1', [name]);
  assert.equal((JSON.parse(row!.record) as { token: string; tcpPort: number }).token, token);
});

test('a server whose change-feed connection is killed reconnects and keeps following', { skip }, async (t) => {
  const listeners = () => db.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query = 'LISTEN p2fs_changes'", [db.name]);
  assert.ok(await eventually(async () => (await listeners()).length === 3), 'three servers listen');
  const killed = await listeners();
  await db.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY($1)', [killed.map((row) => row.pid)]);
  // A change made while they reconnect reaches them too.
  const peer = await clientOf(t);
  const name = uniqueName('relisten');
  const token = await register(peer, a, name);
  assert.equal((await ask(peer, a, { type: 'PUBLISH', rq: rq(), name, token, files: ['during.txt'] })).reply.type, 'PUBLISHED');
  assert.ok(await eventually(async () => {
    const now = await listeners();
    return now.length === 3 && now.every((row) => !killed.some((old) => old.pid === row.pid));
  }), 'every server listens again, on a new connection');
  assert.equal((await ask(peer, a, { type: 'PUBLISH', rq: rq(), name, token, files: ['after.txt'] })).reply.type, 'PUBLISHED');
  for (const instance of [b, c]) {
    assert.ok(await eventually(async () => JSON.stringify(await filesAt(peer, instance, name, token)) === '["after.txt","during.txt"]'), instance.label);
  }
});

test('a server that fell behind the retained change log rereads the registry and converges', { skip }, async (t) => {
  const peer = await clientOf(t);
  const stays = uniqueName('stays');
  const leaves = uniqueName('leaves');
  const token = await register(peer, a, stays);
  const other = await clientOf(t);
  await register(other, a, leaves);
  assert.ok(await eventually(async () => (await filesAt(peer, c, leaves, token)) !== undefined), 'C knows both');
  c.pause();
  try {
    assert.equal((await ask(peer, a, { type: 'PUBLISH', rq: rq(), name: stays, token, files: ['while-away.txt'] })).reply.type, 'PUBLISHED');
    assert.equal((await ask(other, a, { type: 'DE-REGISTER', rq: rq(), name: leaves })).reply.type, 'DE-REGISTERED');
    // The log is pruned past where C stopped (as the retention would after ten minutes).
    await db.query('DELETE FROM p2fs_changes');
    assert.equal((await ask(peer, a, { type: 'PUBLISH', rq: rq(), name: stays, token, files: ['after-prune.txt'] })).reply.type, 'PUBLISHED');
  } finally {
    c.resume();
  }
  assert.ok(await eventually(async () => JSON.stringify(await filesAt(peer, c, stays, token)) === '["after-prune.txt","while-away.txt"]'), 'C has the changes it missed');
  assert.equal(await filesAt(peer, c, leaves, token), undefined, 'and no longer lists the peer that left');
});

test('the conformance suite passes against the cluster, each test file pointed at one of its servers', { skip }, async () => {
  // Without the test runner's marker, or the inner node --test would think it runs inside this one.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/conformance.ts', '--server', cluster.map((i) => i.label).join(',')], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, output.split('\n').filter((line) => /^not ok|fail|Error/.test(line)).slice(0, 30).join('\n'));
  assert.match(output, /# fail 0/);
});

test('a client of several servers fails over when one dies, keeps its registration, and comes back to the first', { skip }, async (t) => {
  const client = await IndexClient.open({
    server: cluster.map((instance) => instance.address),
    bindAddress: '127.0.0.1',
    retry: { attempts: 40, firstTimeoutMs: 100, maxTimeoutMs: 250, failoverAfter: 2 },
    probeFirstEveryMs: 200,
  });
  t.after(() => client.close());
  const name = uniqueName('failover');
  const token = await client.register({ name, ip: '127.0.0.1', tcpPort: 6100 });
  assert.equal(client.serverLabel, a.label);
  await a.kill9();
  await client.publish(['after-the-crash.txt']);
  assert.equal(client.serverLabel, b.label, 'the next server took over');
  assert.equal(client.token, token, 'the same registration, the same token');
  assert.deepEqual((await client.searchFile('after-the-crash.txt')).map((h) => h.name), [name]);
  await a.restart();
  assert.ok(await eventually(() => client.serverLabel === a.label, 10_000), 'back to the first once it answers');
  assert.deepEqual((await client.retrieveInfo(name)).files.map((f) => f.name), ['after-the-crash.txt']);
});
