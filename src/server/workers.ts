// --workers N: N index server processes on this machine sharing one UDP socket (node:cluster: the
// primary binds it and hands the handle to every worker; the kernel gives each datagram to one of
// them). Every worker is a whole server on the shared registry (PostgreSQL), so any of them answers
// any request. The primary serves nothing: it starts the workers, restarts one that dies, and stops
// them all on SIGINT/SIGTERM. (Node 20 ignores dgram's reusePort, so separate processes cannot
// share a port any other way.)
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../log/index.js';
import { parseStoreUrl } from '../stores/store-url.js';

/** What a worker tells the primary once it listens (the primary prints the one start line). */
export interface WorkerListening {
  kind: 'p2fs-listening';
  where: string;
  store: string;
  peers: number;
  files: number;
}

/** A worker that dies this soon after starting is restarted after a growing pause, not at once. */
const QUICK_DEATH_MS = 5000;
const RESTART_MIN_MS = 250;
const RESTART_MAX_MS = 10_000;
/** How long stopping waits for a worker to finish its requests before killing it. */
const STOP_GRACE_MS = 15_000;

/** Why `--workers n` cannot run on this store (undefined when it can). */
export function workersProblem(workers: number, db: string): string | undefined {
  if (workers <= 1) return undefined;
  let kind: string;
  try {
    kind = parseStoreUrl(db).kind;
  } catch {
    return undefined; // the server reports the bad URL itself
  }
  if (kind === 'postgres') return undefined;
  return `--workers ${workers} needs a registry several servers can share: give --db postgresql://…; a ${kind}:// store has one writer`;
}

export interface Workers {
  /** Resolves with the first worker's report once every worker listens. */
  readonly listening: Promise<WorkerListening>;
  /** Stops every worker (SIGTERM, then SIGKILL after the grace time); resolves once all have exited. */
  stop(): Promise<void>;
  /** Forwards a signal to every worker (SIGUSR1: each logs its summary). */
  signal(signal: NodeJS.Signals): void;
}

/** In the primary: forks `count` workers running this same script with the same arguments. */
export function startWorkers(count: number, log: Logger): Workers {
  let stopping = false;
  const started = new Map<Worker, number>();
  let restartDelay = RESTART_MIN_MS;
  let reports: WorkerListening[] = [];
  let announce: ((report: WorkerListening) => void) | undefined;
  let fail: ((error: Error) => void) | undefined;
  const listening = new Promise<WorkerListening>((resolve, reject) => {
    announce = resolve;
    fail = reject;
  });

  const fork = (): void => {
    const worker = cluster.fork();
    started.set(worker, performance.now());
    worker.on('message', (message: WorkerListening) => {
      if (message?.kind !== 'p2fs-listening') return;
      reports.push(message);
      if (reports.length === count) announce?.(reports[0]!);
    });
    worker.on('exit', (code, signal) => {
      const lived = performance.now() - (started.get(worker) ?? 0);
      started.delete(worker);
      if (stopping) return;
      // Before every worker listened, a death is a failure to start (a bad store, a port in use).
      if (reports.length < count) {
        fail?.(new Error(`a worker exited (${signal ?? code}) before listening; its error is above`));
        stopping = true;
        for (const other of started.keys()) other.process.kill('SIGTERM');
        return;
      }
      restartDelay = lived < QUICK_DEATH_MS ? Math.min(restartDelay * 2, RESTART_MAX_MS) : RESTART_MIN_MS;
      log.warn('worker died: restarting it', { pid: worker.process.pid, code, signal, restartInMs: restartDelay });
      setTimeout(() => stopping || fork(), restartDelay);
    });
  };
  for (let i = 0; i < count; i++) fork();

  return {
    listening,
    signal(signal) {
      for (const worker of started.keys()) worker.process.kill(signal);
    },
    async stop() {
      stopping = true;
      const exits = [...started.keys()].map((worker) => new Promise<void>((resolve) => {
        if (worker.isDead()) return resolve();
        const killer = setTimeout(() => worker.process.kill('SIGKILL'), STOP_GRACE_MS);
        worker.once('exit', () => {
          clearTimeout(killer);
          resolve();
        });
        worker.process.kill('SIGTERM');
      }));
      await Promise.all(exits);
      reports = [];
    },
  };
}

/** In a worker: tells the primary it listens. */
export function reportListening(report: Omit<WorkerListening, 'kind'>): void {
  process.send?.({ kind: 'p2fs-listening', ...report } satisfies WorkerListening);
}

export const isWorker = (): boolean => cluster.isWorker;
