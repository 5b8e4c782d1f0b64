// A fault-injecting UDP relay for tests: clients send to the relay, the relay forwards to the server
// from one upstream socket per client (so the server still sees one stable source per client, as it
// would without the relay) and sends the replies back. On the way, in each direction, it drops,
// duplicates and holds back (reorders) datagrams at set rates, decided by a seeded PRNG so a run can
// be replayed. Loopback never loses anything by itself; this is how the retry paths meet real loss.
//
// With several targets (servers of one registry), each client sticks to one of them (in turn, by
// first datagram), and a duplicated request may be sent to another one instead, after a delay: the
// retry through another server, or a delayed copy arriving after the client's next change.
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
  /** Where the server listens; several: servers of one registry, each client sticking to one. */
  target: { host: string; port: number } | ReadonlyArray<{ host: string; port: number }>;
  seed: number;
  /** Client → server. */
  up: Faults;
  /** Server → client. */
  down: Faults;
  /** With several targets: a duplicated request goes to the next server after the client's, this long after. */
  duplicatesElsewhere?: { delayMs: readonly [number, number] };
}

interface Route {
  socket: Socket;
  /** The target this client sticks to. */
  target: number;
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
  /** Requests delivered to a server other than the client's own (duplicatesElsewhere). */
  deliveredElsewhere = 0;
  private readonly routes = new Map<string, Promise<Route>>();
  private readonly targets: ReadonlyArray<{ host: string; port: number }>;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly random: () => number;
  private closed = false;

  private constructor(
    private readonly front: Socket,
    private readonly options: RelayOptions,
  ) {
    this.random = seededRandom(options.seed);
    this.targets = 'host' in options.target ? [options.target] : options.target;
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
    return (await this.route(client.address, client.port)).socket.address().port;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const routes = await Promise.all(this.routes.values());
    await Promise.all([this.front, ...routes.map((r) => r.socket)].map((s) => new Promise<void>((done) => s.close(() => done()))));
  }

  private route(address: string, port: number): Promise<Route> {
    const key = `${address}|${port}`;
    let route = this.routes.get(key);
    if (!route) {
      const target = this.routes.size % this.targets.length;
      route = (async () => {
        const upstream = createSocket('udp4');
        upstream.bind(0, '127.0.0.1');
        await once(upstream, 'listening');
        upstream.on('error', () => {});
        upstream.on('message', (bytes) => this.pass(bytes, this.options.down, this.counts.down, (b) => this.front.send(b, port, address)));
        return { socket: upstream, target };
      })();
      this.routes.set(key, route);
    }
    return route;
  }

  private async fromClient(bytes: Buffer, from: RemoteInfo): Promise<void> {
    const { socket, target } = await this.route(from.address, from.port);
    const elsewhere = this.options.duplicatesElsewhere && this.targets.length > 1 ? this.options.duplicatesElsewhere : undefined;
    this.pass(bytes, this.options.up, this.counts.up, (b, copy) => {
      if (copy === 0 || !elsewhere) {
        const { host, port } = this.targets[target]!;
        socket.send(b, port, host);
        return;
      }
      const { host, port } = this.targets[(target + 1) % this.targets.length]!;
      const [min, max] = elsewhere.delayMs;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.closed) return;
        this.deliveredElsewhere++;
        socket.send(b, port, host);
      }, min + this.random() * (max - min));
      this.timers.add(timer);
    });
  }

  /** One datagram through the faults of its direction; `send` gets each copy's number (0, then 1 for a duplicate). */
  private pass(bytes: Buffer, faults: Faults, counts: DirectionCounts, send: (bytes: Buffer, copy: number) => void): void {
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
          if (!this.closed) send(bytes, copy);
        }, min + this.random() * (max - min));
        this.timers.add(timer);
      } else {
        send(bytes, copy);
      }
    }
  }
}
