// The P2FS index server. Peers register, publish, search and look each other up over UDP; the
// registry lives in memory and is written through to a durable store before any change is answered.
//
//   tsx scripts/server.ts                       # 0.0.0.0:4000, sqlite://data/registry.sqlite
//   tsx scripts/server.ts --host :: --port 0    # dual stack, a free port (printed on start)
//   tsx scripts/server.ts --help
//
// Concurrency: one event loop multiplexes every client. Requests for one peer name are applied in
// arrival order; a slow store write delays only the requests queued behind it for that name, while
// other names and every query keep being answered from memory.
import { createLogger } from '../src/log/index.js';
import { parseServerFlags, SERVER_USAGE, ServerError, startIndexServer, type IndexServer, type ServerFlags } from '../src/server/index.js';

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

const log = createLogger({ level: flags.logLevel }).child({ role: 'server' });

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
  });
} catch (error) {
  log.error('cannot start', { error });
  process.stderr.write(`server: ${(error as Error).message}\n`);
  process.exit(error instanceof ServerError && error.code === 'BAD_OPTION' ? EXIT_USAGE : 1);
}

// Signals first: whoever reads the start line may signal at once.
process.on('SIGUSR1', () => server.logSummary());

let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) {
    log.warn('second signal: exiting at once', { signal });
    process.exit(1);
  }
  stopping = true;
  log.info('stopping: finishing in-flight requests, then closing the store', { signal });
  server.close().then(
    () => {
      log.info('stopped', { ...server.stats() });
      process.exit(0);
    },
    (error: unknown) => {
      log.error('could not close cleanly', { error });
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

// The one line on stdout: scripts and tests read the bound address from it.
const { host, port, family } = server.address;
const where = family === 'IPv6' ? `[${host}]:${port}` : `${host}:${port}`;
const loaded = `${server.registry.peerCount} peers, ${server.registry.fileCount} files`;
process.stdout.write(`index server listening on udp ${where} · store ${server.registry.description} · loaded ${loaded}\n`);
