#!/usr/bin/env node
// The P2FS index server. Peers register, publish and search over UDP; the registry lives in memory and
// is written through to a durable store before any change is answered.
//
//   tsx scripts/server.ts                       # 0.0.0.0:4000, sqlite://data/registry.sqlite
//   tsx scripts/server.ts --host :: --port 0    # dual stack, a free port (printed on start)
//   tsx scripts/server.ts --db postgresql://db/p2fs --workers 2   # one of several servers of one registry
//   tsx scripts/server.ts --help
//
// Concurrency: one event loop multiplexes every client. Requests for one peer name are applied in
// arrival order; a slow store write delays only the requests queued behind it for that name, while
// other names and every query keep being answered from memory. On postgresql:// any number of these
// processes, on any machines, form one index; --workers N runs N of them here on one UDP port.
import { createLogger } from '../src/log/index.js';
import {
  isWorker, parseServerFlags, reportListening, SERVER_USAGE, ServerError, startIndexServer, startWorkers, workersProblem,
  type IndexServer, type ServerFlags,
} from '../src/server/index.js';

/** Exit code for a bad command line (as most Unix tools), distinct from a failure at run time (1). */
const EXIT_USAGE = 2;

function readFlags(): ServerFlags {
  try {
    return parseServerFlags(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof ServerError)) throw error;
    process.stderr.write(`server: ${error.message}\n\n${SERVER_USAGE}\n`);
    process.exit(EXIT_USAGE);
  }
}

const flags = readFlags();
if (flags.help) {
  process.stdout.write(`${SERVER_USAGE}\n`);
  process.exit(0);
}
const problem = workersProblem(flags.workers, flags.db);
if (problem) {
  process.stderr.write(`server: ${problem}\n`);
  process.exit(EXIT_USAGE);
}

const log = createLogger({ level: flags.logLevel }).child({ role: 'server', ...(isWorker() ? { worker: process.pid } : {}) });

if (flags.workers > 1 && !isWorker()) await superviseWorkers();
else await serve();

/** One server: this process (alone, or one worker of several). */
async function serve(): Promise<void> {
  let server: IndexServer;
  try {
    server = await startIndexServer({
      host: flags.host,
      port: flags.port,
      store: flags.db,
      maxDatagram: flags.maxDatagram,
      expireAfterMs: flags.expireAfterMs,
      rateLimit: { perSecond: flags.rate, burst: flags.burst },
      logger: log,
      sharedPort: isWorker(),
    });
  } catch (error) {
    log.error('cannot start', { error });
    process.stderr.write(`server: ${(error as Error).message}\n`);
    process.exit(error instanceof ServerError && error.code === 'BAD_OPTION' ? EXIT_USAGE : 1);
  }

  // Signals first: whoever reads the start line may signal at once.
  process.on('SIGUSR1', () => server.logSummary());
  onStopSignals(
    () => {
      log.info('stopping: finishing in-flight requests, then closing the store');
      return server.close().then(() => log.info('stopped', { ...server.stats() }));
    },
  );

  const { host, port, family } = server.address;
  const where = family === 'IPv6' ? `[${host}]:${port}` : `${host}:${port}`;
  const report = { where, store: server.registry.description, peers: server.registry.peerCount, files: server.registry.fileCount };
  if (isWorker()) reportListening(report);
  else startLine(report, '');
}

/** --workers N: this process starts the workers, restarts one that dies, and stops them all. */
async function superviseWorkers(): Promise<void> {
  const workers = startWorkers(flags.workers, log);
  process.on('SIGUSR1', () => workers.signal('SIGUSR1'));
  onStopSignals(() => {
    log.info('stopping every worker');
    return workers.stop();
  });
  try {
    startLine(await workers.listening, ` · ${flags.workers} workers`);
  } catch (error) {
    process.stderr.write(`server: ${(error as Error).message}\n`);
    await workers.stop();
    process.exit(1);
  }
}

/** The one line on stdout: scripts and tests read the bound address from it. */
function startLine(report: { where: string; store: string; peers: number; files: number }, workers: string): void {
  const loaded = `${report.peers} peers, ${report.files} files`;
  process.stdout.write(`index server listening on udp ${report.where}${workers} · store ${report.store} · loaded ${loaded}\n`);
}

/** SIGINT/SIGTERM run `stop` then exit 0 (1 if it failed); a second signal exits at once. */
function onStopSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn('second signal: exiting at once', { signal });
      process.exit(1);
    }
    stopping = true;
    log.info('signal', { signal });
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('could not close cleanly', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
