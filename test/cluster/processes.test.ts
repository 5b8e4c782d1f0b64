// The shared registry's expiry, and --workers: a peer heard from through one server only is never
// expired by another (expiry runs on the database's clock, one sweeper at a time), a silent one
// expires exactly once; and N worker processes answer on one UDP port, are restarted when one dies,
// and all stop on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, uniqueName } from '../helpers/server.js';
import { startServerProcess, freeUdpPort } from '../reliability/server-process.js';
import { clusterDatabase, eventually, Instance, startCluster } from './harness.js';

const db = await clusterDatabase();
const skip = db.skip;

let nextRq = 1;
const rq = () => nextRq++;

test('expiry: a peer heard from only through A is never expired by B; a silent one expires exactly once', { skip }, async (t) => {
  // 6 s: a peer is told alive at most every 2 s, and a told touch waits at most 1 s for a commit.
  const [a, b] = await startCluster(2, db.url, { args: ['--expire-after', '6s'] });
  // alive speaks to A only; observer speaks to B only (and keeps itself alive there); silent never again.
  const alive = await RawClient.open(a!.address, t);
  const observer = await RawClient.open(b!.address, t);
  const silent = await RawClient.open(b!.address, t);
  const [aliveName, observerName, silentName] = [uniqueName('alive'), uniqueName('observer'), uniqueName('silent')];
  for (const [client, name] of [[alive, aliveName], [observer, observerName], [silent, silentName]] as const) {
    const reply = await client.request({ type: 'REGISTER', rq: rq(), name, ip: client.address.ip, udpPort: client.address.port, tcpPort: 6000 });
    assert.equal(reply.type, 'REGISTERED');
  }
  /** Whether `name` is registered, as A (asked by alive) and B (asked by observer) see it; each question is a sign of life. */
  const seen = async (name: string) => ({
    viaA: (await alive.request({ type: 'RETRIEVE-INFOT', rq: rq(), name })).type === 'RETRIEVE-INFOT',
    viaB: (await observer.request({ type: 'RETRIEVE-INFOT', rq: rq(), name })).type === 'RETRIEVE-INFOT',
  });
  assert.deepEqual(await seen(silentName), { viaA: true, viaB: true });
  const expired = await eventually(async () => {
    const now = await seen(silentName);
    return !now.viaA && !now.viaB;
  }, 20_000, 300);
  assert.ok(expired, 'the silent peer expired, on both servers');
  // Well past the expiry time, the peers heard from are still registered, through either server.
  for (let i = 0; i < 20; i++) {
    assert.deepEqual(await seen(aliveName), { viaA: true, viaB: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  const removals = await db.query<{ name: string }>('SELECT name FROM p2fs_changes WHERE record IS NULL AND name = ANY($1)', [[aliveName, observerName, silentName]]);
  assert.deepEqual(removals.map((row) => row.name), [silentName], 'one removal, of the silent peer');

  // A server started with another expiry time says so: the sweeper would expire peers by its own.
  const other = await Instance.start(db.url, { args: ['--expire-after', '9s', '--log-level', 'warn'] });
  t.after(() => other.kill9());
  assert.match(other.process.stderr(), /servers of this registry disagree on a setting: give every one the same.*"setting":"expire-after-ms","lastStarted":"6000","thisServer":"9000"/);
});

test('--workers 2: one port, two processes answering, a dead worker restarted, SIGTERM stops them all', { skip }, async (t) => {
  const port = await freeUdpPort();
  const server = await startServerProcess(port, db.url, { args: ['--workers', '2', '--log-level', 'info'] });
  t.after(() => server.kill9());
  const clients = await Promise.all(Array.from({ length: 20 }, () => RawClient.open({ host: '127.0.0.1', port }, t)));
  const base = uniqueName('worker');
  const workersThatRegistered = () => new Set([...server.stderr().matchAll(/"event":"peer (?:registered|refreshed)".*?"worker":(\d+)/g)].map((m) => Number(m[1])));
  // The kernel hands each datagram to one of the processes waiting on the socket: rounds of
  // registrations until both have answered some (one busy elsewhere may miss a round).
  for (let round = 0; round < 10 && workersThatRegistered().size < 2; round++) {
    const replies = await Promise.all(clients.map((client, i) =>
      client.request({ type: 'REGISTER', rq: rq(), name: `${base}-${i}`, ip: client.address.ip, udpPort: client.address.port, tcpPort: 6000 + round })));
    assert.ok(replies.every((reply) => reply.type === 'REGISTERED'), JSON.stringify(replies.find((reply) => reply.type !== 'REGISTERED')));
    await new Promise((resolve) => setTimeout(resolve, 100)); // the log lines reach the pipe
  }
  assert.equal(workersThatRegistered().size, 2, 'both workers answered requests');

  // kill -9 one worker: the primary starts another; the port keeps answering meanwhile.
  const [victim] = [...workersThatRegistered()];
  process.kill(victim!, 'SIGKILL');
  assert.ok(await eventually(() => /"event":"worker died: restarting it"/.test(server.stderr()), 10_000), 'the primary noticed');
  const after = await Promise.all(clients.map((client, i) => client.request({ type: 'RETRIEVE-INFOT', rq: rq(), name: `${base}-${i}` })));
  assert.ok(after.every((reply) => reply.type === 'RETRIEVE-INFOT'));
  assert.ok(await eventually(() => /"event":"peer registered"|"event":"receive buffer"/.test(server.stderr().split('worker died')[1] ?? ''), 20_000), 'a new worker started');

  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  const pids = [...server.stderr().matchAll(/"worker":(\d+)/g)].map((m) => Number(m[1]));
  for (const pid of new Set(pids)) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is gone`);
});
