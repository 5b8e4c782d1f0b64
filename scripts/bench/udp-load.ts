// The closed-loop UDP load of the benchmarks (bench-server.ts, bench-cluster.ts): a child process
// keeps `concurrency` requests in flight, each slot sending its next request when the last is
// answered, and reports requests/s, latency percentiles, losses and its own CPU; the caller measures
// the server's CPU per request when the server runs in its own process. And the ceiling: a raw
// node:dgram echo server.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';

/** Seconds a run lasts unless told otherwise. */
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

/** Closed-loop UDP load: `concurrency` slots, each sends a request and waits for its reply (matched by rq). */
const LOAD_GENERATOR = `
const dgram = require('node:dgram');
const socket = dgram.createSocket('udp4');
socket.bind(0, '127.0.0.1', () => process.send({ port: socket.address().port }));
process.on('message', ({ targets, slots, concurrency, seconds, warmup }) => {
  socket.setRecvBufferSize(8 * 1024 * 1024);
  const pending = new Map();
  const samples = new Float64Array(4_000_000);
  let count = 0, lost = 0, rq = 1, measuring = false, done = false;
  const next = new Array(concurrency).fill(0);
  const send = (slot) => {
    const list = slots[slot % slots.length];
    const template = list[next[slot]++ % list.length];
    const id = rq++;
    const timer = setTimeout(() => { pending.delete(id); lost++; if (!done) send(slot); }, 2000);
    pending.set(id, { slot, at: process.hrtime.bigint(), timer });
    socket.send(template.replace('__RQ__', String(id)), targets[slot % targets.length], '127.0.0.1');
  };
  socket.removeAllListeners('message');
  socket.on('message', (bytes) => {
    // Every reply starts {"type":"…","rq":N: reading only its head keeps this generator's cost per
    // reply the same whatever the reply's size, so a large reply measures the server, not the generator.
    const text = bytes.toString('latin1', 0, 64);
    const at = text.indexOf('"rq":') + 5;
    const id = parseInt(text.slice(at, at + 12), 10);
    const request = pending.get(id);
    if (!request) return;
    pending.delete(id);
    clearTimeout(request.timer);
    if (measuring && count < samples.length) samples[count++] = Number(process.hrtime.bigint() - request.at) / 1000;
    if (!done) send(request.slot);
  });
  for (let slot = 0; slot < concurrency; slot++) send(slot);
  setTimeout(() => {
    measuring = true; lost = 0;
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    process.send({ measuring: true });
    setTimeout(() => {
      done = true; measuring = false;
      const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
      const used = process.cpuUsage(cpu);
      const loadCpu = (used.user + used.system) / 1e6 / elapsed;
      const sorted = samples.subarray(0, count).sort();
      const pct = (p) => sorted[Math.min(count - 1, Math.floor(count * p))];
      process.send({ requests: count, rps: count / elapsed, p50: pct(0.5), p99: pct(0.99), lost, loadCpu });
      setTimeout(() => process.send({ settled: true }), 300);
    }, seconds * 1000);
  }, warmup * 1000);
});
`;

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  lost: number;
  /** Cores the load generator kept busy. */
  loadCpu: number;
  /** Server CPU time per request, µs (user + system, this process). */
  serverCpuUs: number;
}

export class LoadGenerator {
  private constructor(private readonly child: ChildProcess, readonly port: number) {}

  static async start(): Promise<LoadGenerator> {
    const child = spawn(process.execPath, ['-e', LOAD_GENERATOR], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const [{ port }] = (await once(child, 'message')) as [{ port: number }];
    return new LoadGenerator(child, port);
  }

  /**
   * `slots[i]` is the request sequence slot i cycles through (templates with __RQ__ for the rq); slot
   * i sends to `target`, or to the (i mod n)-th of several. Also measures the CPU time this process
   * (the server under test, when it runs here) spends per request.
   */
  async run(target: number | readonly number[], slots: string[][], concurrency: number, seconds = SECONDS): Promise<LoadResult> {
    this.child.send({ targets: typeof target === 'number' ? [target] : target, slots, concurrency, seconds, warmup: 0.5 });
    await once(this.child, 'message');
    const cpu = process.cpuUsage();
    const [result] = (await once(this.child, 'message')) as [LoadResult];
    const used = process.cpuUsage(cpu);
    await once(this.child, 'message');
    return { ...result, serverCpuUs: (used.user + used.system) / result.requests };
  }

  async stop(): Promise<void> {
    this.child.kill();
    await once(this.child, 'exit');
  }
}

export async function startEcho(): Promise<{ port: number; close: () => void }> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  socket.on('message', (bytes, from) => socket.send(bytes, from.port, from.address));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { port: socket.address().port, close: () => socket.close() };
}

