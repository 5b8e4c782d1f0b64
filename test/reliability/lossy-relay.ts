// A fault-injecting UDP relay for tests: clients send to the relay, the relay forwards to the server
// from one upstream socket per client (so the server still sees one stable source per client, as it
// would without the relay) and sends the replies back. On the way, in each direction, it drops,
// duplicates and holds back (reorders) datagrams at set rates, decided by a seeded PRNG so a run can
// be replayed. Loopback never loses anything by itself; this is how the retry paths meet real loss.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';

export interface Faults {
  /** Share of datagrams dropped, 0..1. */
  loss: number;
  /** Share of delivered datagrams delivered twice, 0..1. */
  duplicate: number;
  /** Share of delivered datagrams held back so later ones overtake them, 0..1. */
  reorder: number;
  /** How long a held-back datagram waits, ms (uniform in [min, max]). */
  holdMs: readonly [number, number];
}

export interface RelayOptions {
  /** Where the server listens. */
  target: { host: string; port: number };
  seed: number;
  /** Client → server. */
  up: Faults;
  /** Server → client. */
  down: Faults;
}

export interface DirectionCounts {
  received: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  delivered: number;
}

/** mulberry32: tiny, fast, good enough to pick faults; the same seed gives the same decisions. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const emptyCounts = (): DirectionCounts => ({ received: 0, dropped: 0, duplicated: 0, reordered: 0, delivered: 0 });

export class LossyRelay {
  readonly counts = { up: emptyCounts(), down: emptyCounts() };
  private readonly routes = new Map<string, Promise<Socket>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly random: () => number;
  private closed = false;

  private constructor(
    private readonly front: Socket,
    private readonly options: RelayOptions,
  ) {
    this.random = seededRandom(options.seed);
    // A send to a client that has gone away fails asynchronously; that is loss too, not a crash.
    front.on('error', () => {});
    front.on('message', (bytes, from) => void this.fromClient(bytes, from));
  }

  static async start(options: RelayOptions): Promise<LossyRelay> {
    const front = createSocket('udp4');
    front.bind(0, '127.0.0.1');
    await once(front, 'listening');
    return new LossyRelay(front, options);
  }

  /** Where clients send: the relay's front socket. */
  get address(): { host: string; port: number } {
    return { host: '127.0.0.1', port: this.front.address().port };
  }

  /**
   * The port the server will see a client's datagrams come from. A client registers this as its
   * udpPort, so the server's address-based authorisation works through the relay as it would without.
   */
  async upstreamPortFor(client: { address: string; port: number }): Promise<number> {
    return (await this.route(client.address, client.port)).address().port;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const sockets = await Promise.all(this.routes.values());
    await Promise.all([this.front, ...sockets].map((s) => new Promise<void>((done) => s.close(() => done()))));
  }

  private route(address: string, port: number): Promise<Socket> {
    const key = `${address}|${port}`;
    let route = this.routes.get(key);
    if (!route) {
      route = (async () => {
        const upstream = createSocket('udp4');
        upstream.bind(0, '127.0.0.1');
        await once(upstream, 'listening');
        upstream.on('error', () => {});
        upstream.on('message', (bytes) => this.pass(bytes, this.options.down, this.counts.down, (b) => this.front.send(b, port, address)));
        return upstream;
      })();
      this.routes.set(key, route);
    }
    return route;
  }

  private async fromClient(bytes: Buffer, from: RemoteInfo): Promise<void> {
    const upstream = await this.route(from.address, from.port);
    const { host, port } = this.options.target;
    this.pass(bytes, this.options.up, this.counts.up, (b) => upstream.send(b, port, host));
  }

  /** One datagram through the faults of its direction. */
  private pass(bytes: Buffer, faults: Faults, counts: DirectionCounts, send: (bytes: Buffer) => void): void {
    if (this.closed) return;
    counts.received++;
    if (this.random() < faults.loss) {
      counts.dropped++;
      return;
    }
    const copies = this.random() < faults.duplicate ? 2 : 1;
    if (copies === 2) counts.duplicated++;
    for (let copy = 0; copy < copies; copy++) {
      counts.delivered++;
      if (this.random() < faults.reorder) {
        counts.reordered++;
        const [min, max] = faults.holdMs;
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          if (!this.closed) send(bytes);
        }, min + this.random() * (max - min));
        this.timers.add(timer);
      } else {
        send(bytes);
      }
    }
  }
}
