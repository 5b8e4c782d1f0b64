// Several index servers on one PostgreSQL registry, as real processes (scripts/server.ts), for the
// cluster tests. Each test file gets a database of its own, p2fs_cluster_<random>, created on the
// PostgreSQL at 127.0.0.1 and dropped when the file's tests end; the tests skip, saying so, only when
// PostgreSQL does not answer.
import { after } from 'node:test';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { StoredPeer } from '../../src/registry/index.js';
import type { UdpReply } from '../../src/generated/catalogue.js';
import { RawClient, type WireRequest } from '../helpers/server.js';
import { freeUdpPort, startServerProcess, type ServerProcess, type ServerProcessOptions } from '../reliability/server-process.js';
import { service } from '../stores/helpers/services.js';

/** Where the test databases are made: the server's maintenance database. */
const ADMIN_URL = process.env.P2FS_TEST_POSTGRES_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface ClusterDatabase {
  /** The test database's URL (what the servers get as --db), or undefined when skipped. */
  url: string;
  name: string;
  /** Why the cluster tests of this file are skipped (PostgreSQL does not answer). */
  skip: string | undefined;
  /** A query on the test database (a connection of its own per call). */
  query<Row extends object = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<Row[]>;
}

/** Creates this file's database now (dropped after its tests), or says why the tests must skip. */
export async function clusterDatabase(): Promise<ClusterDatabase> {
  const reachable = await service('PostgreSQL', 'P2FS_TEST_POSTGRES_ADMIN_URL', ADMIN_URL);
  const name = `p2fs_cluster_${randomBytes(5).toString('hex')}`;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const query = async <Row extends object>(sql: string, values: unknown[] = []): Promise<Row[]> => {
    const client = new pg.Client({ connectionString: url.href });
    await client.connect();
    try {
      return (await client.query<Row>(sql, values)).rows;
    } finally {
      await client.end();
    }
  };
  if (reachable.skip) return { url: url.href, name, skip: reachable.skip, query };
  await admin(`CREATE DATABASE ${name}`);
  after(() => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  return { url: url.href, name, skip: undefined, query };
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** One server of a cluster: its port stays the same across restarts. */
export class Instance {
  private constructor(
    readonly port: number,
    private readonly db: string,
    private readonly options: ServerProcessOptions,
    public process: ServerProcess,
  ) {}

  static async start(db: string, options: ServerProcessOptions = {}): Promise<Instance> {
    const port = await freeUdpPort();
    return new Instance(port, db, options, await startServerProcess(port, db, options));
  }

  get address(): { host: string; port: number } {
    return { host: '127.0.0.1', port: this.port };
  }

  get label(): string {
    return `127.0.0.1:${this.port}`;
  }

  async kill9(): Promise<void> {
    await this.process.kill9();
  }

  /** Starts it again on the same port and database (after kill9 or stop). */
  async restart(): Promise<void> {
    this.process = await startServerProcess(this.port, this.db, this.options);
  }

  /** SIGSTOP / SIGCONT: a server that stops following (and answering) for a while, then goes on. */
  pause(): void {
    this.process.child.kill('SIGSTOP');
  }

  resume(): void {
    this.process.child.kill('SIGCONT');
  }
}

/** `count` servers on `db`, started together; killed when the file's tests end (call it at file level). */
export async function startCluster(count: number, db: string, options: ServerProcessOptions = {}): Promise<Instance[]> {
  const instances = await Promise.all(Array.from({ length: count }, () => Instance.start(db, options)));
  after(async () => {
    for (const instance of instances) {
      instance.resume();
      await instance.kill9();
    }
  });
  return instances;
}

/**
 * Sends `message` from `client` to `instance` until it is answered (five tries, 2 s each: a cluster
 * server under test load may drop a datagram), and returns the reply.
 */
export async function ask(client: RawClient, instance: Instance, message: WireRequest): Promise<UdpReply & Record<string, unknown>> {
  const bytes = Buffer.from(JSON.stringify(message));
  for (let attempt = 0; attempt < 5; attempt++) {
    const seen = client.received().length;
    client.socket.send(bytes, instance.port, '127.0.0.1');
    const got = await client.waitFor((r, i) => i >= seen && r.rq === message.rq, 2000);
    if (got?.reply) return got.reply as UdpReply & Record<string, unknown>;
  }
  throw new Error(`no reply from ${instance.label} to ${JSON.stringify(message)}`);
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns whether it did. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, everyMs = 20): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** The registry's peers whose names start with `prefix`, as the database holds them. */
export async function storedPeers(db: ClusterDatabase, prefix: string): Promise<StoredPeer[]> {
  const rows = await db.query<{ record: string }>('SELECT record FROM p2fs_peers WHERE starts_with(name, $1) ORDER BY name', [prefix]);
  return rows.map((row) => JSON.parse(row.record) as StoredPeer);
}

/** Each peer (names starting with `prefix`) as one server lists it: its TCP port and file names. */
async function listedBy(instance: Instance, prefix: string): Promise<Map<string, string>> {
  const client = await RawClient.open(instance.address);
  try {
    const name = `observer-${randomBytes(4).toString('hex')}`;
    const registered = await client.request({ type: 'REGISTER', rq: 1, name, ip: client.address.ip, udpPort: client.address.port, tcpPort: 1 });
    if (registered.type !== 'REGISTERED') throw new Error(`${instance.label} refused the observer: ${JSON.stringify(registered)}`);
    const listed = new Map<string, string[]>();
    const ports = new Map<string, number>();
    let cursor: string | undefined;
    let rq = 2;
    do {
      const page = await client.request({ type: 'RETRIEVE-ALL', rq: rq++, ...(cursor ? { cursor } : {}) });
      if (page.type !== 'RETRIEVE') throw new Error(`${instance.label}: ${JSON.stringify(page)}`);
      for (const peer of page.peers.filter((p) => p.name.startsWith(prefix))) {
        listed.set(peer.name, [...(listed.get(peer.name) ?? []), ...peer.files.map((f) => f.name)]);
        ports.set(peer.name, peer.tcpPort);
      }
      cursor = page.next;
    } while (cursor);
    await client.request({ type: 'DE-REGISTER', rq: rq++, name });
    return new Map([...listed].map(([peer, files]) => [peer, `${ports.get(peer)} ${files.sort().join(',')}`]));
  } finally {
    client.close();
  }
}

/**
 * Waits until every server lists the peers named `prefix…` exactly as the database holds them;
 * returns the servers that still disagree after `timeoutMs` (empty when all agree).
 */
export async function serversAgreeWithDatabase(cluster: readonly Instance[], db: ClusterDatabase, prefix: string, timeoutMs = 15_000): Promise<string[]> {
  const expected = async () => {
    const stored = await storedPeers(db, prefix);
    return new Map(stored.map((peer) => [peer.name, `${peer.tcpPort} ${peer.files.map((f) => f.name).sort().join(',')}`]));
  };
  const disagreeing: string[] = [];
  for (const instance of cluster) {
    const agrees = await eventually(async () => {
      const [want, got] = [await expected(), await listedBy(instance, prefix)];
      return JSON.stringify([...want].sort()) === JSON.stringify([...got].sort());
    }, timeoutMs, 200);
    if (!agrees) disagreeing.push(instance.label);
  }
  return disagreeing;
}
