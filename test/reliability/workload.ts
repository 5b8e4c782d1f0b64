// The mixed workload of the reliability scenarios: N peers, each its own IndexClient (its own UDP
// socket), each doing M operations one after another — register, publish, remove, search, retrieve,
// update-contact, de-register and register again — chosen by a seeded PRNG. Every reply is checked
// against the RegistryModel, every mutation's outcome (acknowledged or TIMEOUT) goes into it.
import { IndexClient, IndexClientError, type RetryPolicy } from '../../src/client/index.js';
import type { FileEntry, FileHolder } from '../../src/generated/types.js';
import { RegistryModel, type PeerModel } from './registry-model.js';
import { seededRandom } from './lossy-relay.js';

export interface WorkloadOptions {
  peers: number;
  opsPerPeer: number;
  seed: number;
  /** Where the clients send (the server, or a relay in front of it; several: servers of one registry). */
  server: { host: string; port: number } | ReadonlyArray<{ host: string; port: number }>;
  retry: Partial<RetryPolicy>;
  /** A retry policy per peer (by index), overriding `retry`: lets some peers give up quickly. */
  retryFor?: (peer: number) => Partial<RetryPolicy> | undefined;
  /** Peer names start with this (unique per run). */
  prefix: string;
  /** The IP the clients bind and register. */
  ip?: string;
  /** The UDP port the server will see a client's requests come from (a relay changes it). */
  sourcePortOf?: (client: IndexClient) => Promise<number>;
  /** Checked before each operation: a crash test runs the peers until its restarts are done. */
  stop?: () => boolean;
  /** Most files in one PUBLISH (default 3). */
  publishMax?: number;
  /** Replies may come from a copy of the registry this far behind (servers of one registry); default 0. */
  staleMs?: number;
  /** Refusals that leave a mutation's outcome unknown (the store was down): counted like a timeout. */
  unsure?: (reason: string) => boolean;
}

export type OpKind = 'register' | 'deregister' | 'publish' | 'remove' | 'search' | 'retrieve-infot' | 'retrieve-all' | 'update-contact';

export interface WorkloadResult {
  model: RegistryModel;
  attempted: number;
  completed: number;
  timedOut: number;
  /** Failures other than TIMEOUT (each is also a violation). */
  failed: number;
  byKind: Record<OpKind, { attempted: number; completed: number; timedOut: number }>;
  /** Requests sent again with the same bytes (a reply or the request itself went missing). */
  retransmissions: number;
  /** Mutations refused with a reason that leaves their outcome unknown (options.unsure). */
  unsure: number;
  ms: number;
}

const OP_WEIGHTS: ReadonlyArray<readonly [OpKind, number]> = [
  ['publish', 24], ['remove', 14], ['search', 20], ['retrieve-infot', 14], ['retrieve-all', 5], ['update-contact', 9], ['deregister', 6],
];
const TOTAL_WEIGHT = OP_WEIGHTS.reduce((sum, [, w]) => sum + w, 0);

/** Files shared by many peers, so a search returns several holders; one is written in NFD, listed in NFC. */
const COMMON_FILES = ['common-a.txt', 'common-b.bin', 'cafe\u0301-menu.pdf', 'notes 2026.md'];

export interface RunningWorkload {
  /** Why the workload failed outright (not a violation: an exception), if it did. */
  readonly failure: unknown;
  /** Lets every peer finish its operation under way, then resolves with the result. */
  stop(): Promise<WorkloadResult>;
}

/** The workload, run until stop(): the peers keep at it while a test injects its faults. */
export function startWorkload(options: Omit<WorkloadOptions, 'opsPerPeer' | 'stop'>): RunningWorkload {
  let stopping = false;
  let failure: unknown;
  const result = runWorkload({ ...options, opsPerPeer: Number.MAX_SAFE_INTEGER, stop: () => stopping });
  result.catch((error: unknown) => (failure = error));
  return {
    get failure() {
      return failure;
    },
    stop() {
      stopping = true;
      return result;
    },
  };
}

export async function runWorkload(options: WorkloadOptions): Promise<WorkloadResult> {
  const started = performance.now();
  const ip = options.ip ?? '127.0.0.1';
  const model = new RegistryModel();
  const kinds = Object.fromEntries(OP_WEIGHTS.map(([k]) => [k, { attempted: 0, completed: 0, timedOut: 0 }]).concat([['register', { attempted: 0, completed: 0, timedOut: 0 }]])) as WorkloadResult['byKind'];
  const result: WorkloadResult = { model, attempted: 0, completed: 0, timedOut: 0, failed: 0, byKind: kinds, retransmissions: 0, unsure: 0, ms: 0 };
  const clients: IndexClient[] = [];
  try {
    for (let i = 0; i < options.peers; i++) {
      clients.push(await IndexClient.open({
        server: options.server,
        bindAddress: ip,
        retry: options.retryFor?.(i) ?? options.retry,
        onMessage: (seen) => {
          if (seen.direction === 'sent' && (seen.attempt ?? 1) > 1) result.retransmissions++;
        },
      }));
    }
    await Promise.all(clients.map(async (client, i) => {
      const name = `${options.prefix}-${i}`;
      const peer = model.add(name);
      peer.udpPort = options.sourcePortOf ? await options.sourcePortOf(client) : client.udpPort;
      await runPeer(client, peer, i, model, options, result, ip);
    }));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  result.ms = performance.now() - started;
  return result;
}

async function runPeer(client: IndexClient, peer: PeerModel, index: number, model: RegistryModel, options: WorkloadOptions, result: WorkloadResult, ip: string): Promise<void> {
  const random = seededRandom(options.seed * 7919 + index);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const own = Array.from({ length: Math.max(6, options.publishMax ?? 3) }, (_, k) => `${peer.name}-file-${k}.dat`);
  const pool = [...own, ...COMMON_FILES];
  // The size is a function of peer and file, so a listing's size says which publish it came from.
  const entryOf = (file: string): FileEntry => ({ name: file.normalize('NFC'), size: (index + 1) * 1000 + pool.indexOf(file) });
  const who = (kind: string) => `${peer.name} ${kind}`;
  const staleMs = options.staleMs ?? 0;

  for (let op = 0; op < options.opsPerPeer && !options.stop?.(); op++) {
    let kind: OpKind;
    if (peer.registered !== 'yes') kind = 'register';
    else {
      let roll = random() * TOTAL_WEIGHT;
      kind = OP_WEIGHTS.find(([, w]) => (roll -= w) < 0)![0];
    }
    const tally = result.byKind[kind];
    tally.attempted++;
    result.attempted++;
    try {
      await perform(kind);
      tally.completed++;
      result.completed++;
    } catch (error) {
      const unsure = error instanceof IndexClientError && error.code === 'DENIED' && options.unsure?.(error.reason ?? '');
      if (error instanceof IndexClientError && (error.code === 'TIMEOUT' || unsure)) {
        tally.timedOut++;
        result.timedOut++;
        if (unsure) result.unsure++;
      } else {
        result.failed++;
        model.violation(`${who(kind)} failed: ${error instanceof Error ? `${error.name} ${(error as IndexClientError).code ?? ''} ${error.message}` : String(error)}`);
      }
    }
  }

  async function perform(kind: OpKind): Promise<void> {
    switch (kind) {
      case 'register': {
        const tcpPort = 20_000 + Math.floor(random() * 40_000);
        await model.mutate(peer, () => client.register({ name: peer.name, ip, tcpPort, udpPort: peer.udpPort }), (o) => model.registered(peer, tcpPort, o.ok));
        return;
      }
      case 'deregister':
        await model.mutate(peer, () => client.deregister(), (o, group) => model.deregistered(peer, o.ok, group));
        return;
      case 'publish': {
        const files = [...new Set(Array.from({ length: 1 + Math.floor(random() * (options.publishMax ?? 3)) }, () => pick(pool)))];
        const entries = files.map(entryOf);
        // Sent as written (one name in NFD); the model knows them NFC, as the server must.
        const sent = files.map((f) => ({ ...entryOf(f), name: f }));
        await model.mutate(peer, () => client.publish(sent), (o, group) => model.published(peer, entries, o.ok, group));
        return;
      }
      case 'remove': {
        const names = [...new Set(Array.from({ length: 1 + Math.floor(random() * 2) }, () => pick(pool).normalize('NFC')))];
        await model.mutate(peer, () => client.remove(names), (o, group) => model.removed(peer, names, o.ok, group));
        return;
      }
      case 'update-contact': {
        const tcpPort = 20_000 + Math.floor(random() * 40_000);
        await model.mutate(peer, () => client.updateContact({ tcpPort }), (o) => model.contactUpdated(peer, tcpPort, o.ok));
        return;
      }
      case 'search': {
        const file = pick(pool);
        const mark = model.mark();
        let holders: FileHolder[];
        try {
          holders = await client.searchFile(file);
        } catch (error) {
          // Nobody shares it: SEARCH-ERROR (the course's rule), checked against the model as no holder.
          const nobody = error instanceof IndexClientError && error.code === 'DENIED' && /^nobody shares /.test(error.reason ?? '');
          if (!nobody) throw error;
          holders = [];
        }
        model.checkSearch(who('SEARCH-FILE'), file.normalize('NFC'), holders, model.stableSince(mark, staleMs), ip);
        return;
      }
      case 'retrieve-infot': {
        const target = `${options.prefix}-${Math.floor(random() * options.peers)}`;
        const mark = model.mark();
        try {
          const info = await client.retrieveInfo(target);
          if (model.stableSince(mark, staleMs).has(target)) model.checkListing(who('RETRIEVE-INFOT'), info, ip);
        } catch (error) {
          const denied = error instanceof IndexClientError && error.code === 'DENIED';
          if (!denied) throw error;
          const peerModel = model.peers.get(target);
          // Refused as not registered: right unless the target is registered for sure and stood still.
          const mustExist = peerModel && peerModel.registered === 'yes' && model.stableSince(mark, staleMs).has(target);
          if (mustExist || !/not registered/.test(error.reason ?? '')) model.violation(`${who('RETRIEVE-INFOT')} ${target} refused: ${error.reason}`);
        }
        return;
      }
      case 'retrieve-all': {
        const mark = model.mark();
        const listings = await client.retrieveAll();
        model.checkAll(who('RETRIEVE-ALL'), listings, model.stableSince(mark, staleMs), ip);
        return;
      }
    }
  }
}
