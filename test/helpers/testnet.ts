// A small P2FS network for end-to-end tests: a real index server and n real peers on 127.0.0.1
// (port 0 everywhere), each with its own temporary share folder. Everything is closed and deleted
// when the test ends.
//
//   const net = await startTestnet(t, { peers: [{ files: { 'a.txt': 'hello' } }, {}] });
//   const [alice, bob] = net.peers;
//   await bob.peer.download('a.txt', { outDir: bob.downloads });
//
// Peers are registered and share their whole folder (like `serve`), unless told otherwise.
import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Peer, type PeerEvents, type PeerOptions } from '../../src/peer/peer.js';
import { startTestServer, type TestServer, type TestServerOptions } from './server.js';

export interface TestPeerSpec {
  /** Default `peer<i>-<random>`. */
  name?: string;
  /** Files to create in the share folder before the peer starts: name → content. */
  files?: Record<string, string | Uint8Array>;
  /** Default true: register (and publish the share) on start. */
  register?: boolean;
  /** Anything else of PeerOptions (shareMode, retry, onHash, keepaliveMs, …). */
  options?: Partial<PeerOptions>;
}

export interface TestPeer {
  peer: Peer;
  name: string;
  /** The share folder. */
  share: string;
  /** An empty folder for this peer's downloads. */
  downloads: string;
}

export interface Testnet {
  server: TestServer;
  peers: TestPeer[];
  /** Starts one more peer on the same server, with its own folders. */
  addPeer(spec?: TestPeerSpec): Promise<TestPeer>;
  /** Opens a peer on this server with exactly these options (e.g. on an existing share folder); not registered. */
  openPeer(options: Partial<PeerOptions>): Promise<Peer>;
}

/** Share-folder timings short enough for tests, still long enough to coalesce a write. */
export const TEST_SHARE_TIMING = { settleMs: 100, debounceMs: 30, rescanMs: 60_000 };

export async function startTestnet(
  t: TestContext,
  config: { peers?: number | TestPeerSpec[]; server?: TestServerOptions } = {},
): Promise<Testnet> {
  const server = await startTestServer(config.server ?? {});
  const root = await mkdtemp(join(tmpdir(), 'p2fs-testnet-'));
  const started: Peer[] = [];
  // One hook, in this order: peers de-register while the server still answers, then it closes.
  t.after(async () => {
    for (const peer of started) await peer.stop().catch(() => {});
    await server.close();
    await rm(root, { recursive: true, force: true });
  });
  const openPeer = async (options: Partial<PeerOptions>) => {
    const peer = await startPeer({ server: server.target, ...options });
    started.push(peer);
    return peer;
  };
  let count = 0;
  const addPeer = async (spec: TestPeerSpec = {}): Promise<TestPeer> => {
    const index = count++;
    const name = spec.name ?? `peer${index}-${randomUUID().slice(0, 8)}`;
    const share = join(root, `${name}-share`);
    const downloads = join(root, `${name}-downloads`);
    await mkdir(share, { recursive: true });
    await mkdir(downloads, { recursive: true });
    for (const [file, content] of Object.entries(spec.files ?? {})) await writeFile(join(share, file), content);
    const peer = await openPeer({ name, share, ...spec.options });
    if (spec.register ?? true) await peer.register();
    return { peer, name, share, downloads };
  };
  const specs = typeof config.peers === 'number' ? Array.from({ length: config.peers }, () => ({})) : (config.peers ?? []);
  const peers: TestPeer[] = [];
  for (const spec of specs) peers.push(await addPeer(spec));
  return { server, peers, addPeer, openPeer };
}

/** A peer on loopback with test timings; the caller stops it (startTestnet does for its own). */
export function startPeer(options: PeerOptions): Promise<Peer> {
  return Peer.open({ host: '127.0.0.1', listenHost: '127.0.0.1', shareTiming: TEST_SHARE_TIMING, ...options });
}

/**
 * Resolves with the first `event` of `peer` whose arguments satisfy `match`. Call it before doing
 * what causes the event, and await it after.
 */
export function nextEvent<K extends keyof PeerEvents>(
  peer: Peer,
  event: K,
  match: (...args: PeerEvents[K]) => boolean = () => true,
): Promise<PeerEvents[K]> {
  const emitter = peer as unknown as EventEmitter;
  return new Promise((resolve) => {
    const listener = (...args: unknown[]) => {
      if (!match(...(args as PeerEvents[K]))) return;
      emitter.off(event, listener);
      resolve(args as PeerEvents[K]);
    };
    emitter.on(event, listener);
  });
}
