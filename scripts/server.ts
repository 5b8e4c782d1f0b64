#!/usr/bin/env node
// The P2FS index server. Peers register, publish, search and look each other up over UDP; the
// registry lives in memory and is written through to a durable store before any change is answered.
// Installed as `p2fs-server`; from a clone, `tsx scripts/server.ts` or `npm run server --`.
//
//   p2fs-server                                 # 0.0.0.0:4000, sqlite://data/registry.sqlite
//   p2fs-server --host :: --port 0              # dual stack, a free port (printed on start)
//   P2FS_PORT=5000 P2FS_DB=postgresql://db/p2fs p2fs-server --workers 2   # one of several servers of one registry
//   p2fs-server --help
//
// Concurrency: one event loop multiplexes every client. Requests for one peer name are applied in
// arrival order; a slow store write delays only the requests queued behind it for that name, while
// other names and every query keep being answered from memory (docs/concurrency.md). On
// postgresql:// any number of these processes, on any machines, form one index; --workers N runs N
// of them here on one UDP port (docs/scaling.md).
import { UsageError } from '../src/cli/errors.js';
import { startMetrics } from '../src/cli/metrics.js';
import { parseCommand, runProgram, type CommandFlags } from '../src/cli/program.js';
import { SERVER } from '../src/cli/server-flags.js';
import { untilStopSignal } from '../src/cli/stopping.js';
import type { Logger } from '../src/log/index.js';

const PROGRAM = 'p2fs-server';
type Flags = CommandFlags<typeof SERVER.flags>;

await runProgram(PROGRAM, async (argv) => {
  const parsed = parseCommand(PROGRAM, SERVER, argv);
  if (!parsed) return 0;
  const { flags, args } = parsed;
  if (args.length > 0) throw new UsageError(`the server takes no arguments, got "${args[0]}"`);

  // Loaded only now: --help and --version need none of it.
  const { createLogger } = await import('../src/log/index.js');
  const { isWorker, workersProblem } = await import('../src/server/index.js');
  const problem = workersProblem(flags.workers, flags.db);
  if (problem) throw new UsageError(problem, false);
  if (flags.metrics && flags.workers > 1) {
    throw new UsageError('--metrics serves one process: with --workers, each worker is a server of its own; run them as separate p2fs-server processes, each with its own --metrics', false);
  }
  const log = createLogger({ level: flags['log-level'] }).child({ role: 'server', ...(isWorker() ? { worker: process.pid } : {}) });
  return flags.workers > 1 && !isWorker() ? superviseWorkers(flags, log) : serve(flags, log);
});

/** One server: this process (alone, or one worker of several). Resolves with the exit code once stopped. */
async function serve(flags: Flags, log: Logger): Promise<number> {
  const { isWorker, reportListening, startIndexServer } = await import('../src/server/index.js');
  // Signals first: whoever reads the start line may signal at once.
  const stopped = untilStopSignal(exitAtOnce(log));
  // The metrics endpoint is bound first: a busy port fails before the store is opened.
  const metrics = flags.metrics ? (await import('../src/metrics/index-server.js')).indexServerMetrics() : undefined;
  const endpoint = flags.metrics && metrics ? await startMetrics(flags.metrics, metrics, () => {}) : undefined;
  const server = await startIndexServer({
    host: flags.host,
    port: flags.port,
    store: flags.db,
    maxDatagram: flags['max-datagram'],
    expireAfterMs: flags['expire-after'],
    rateLimit: { perSecond: flags.rate, burst: flags.burst },
    logger: log,
    sharedPort: isWorker(),
    ...(metrics ? { onStoreWrite: metrics.observeStoreWrite } : {}),
  }).catch(async (error: unknown) => {
    await endpoint?.close();
    throw explainStartFailure(error, flags);
  });
  metrics?.attach(server);
  process.on('SIGUSR1', () => server.logSummary());

  const { host, port, family } = server.address;
  const where = family === 'IPv6' ? `[${host}]:${port}` : `${host}:${port}`;
  const report = { where, store: server.registry.description, peers: server.registry.peerCount, files: server.registry.fileCount };
  if (isWorker()) reportListening(report);
  else startLine(report, endpoint ? { metrics: endpoint.url } : {});

  const signal = await stopped;
  log.info('stopping: finishing in-flight requests, then closing the store', { signal });
  await endpoint?.close();
  await server.close();
  log.info('stopped', { ...server.stats() });
  return 0;
}

/** --workers N: this process starts the workers, restarts one that dies, and stops them all. */
async function superviseWorkers(flags: Flags, log: Logger): Promise<number> {
  const { startWorkers } = await import('../src/server/index.js');
  const stopped = untilStopSignal(exitAtOnce(log));
  const workers = startWorkers(flags.workers, log);
  process.on('SIGUSR1', () => workers.signal('SIGUSR1'));
  const report = await workers.listening.catch(async (error: unknown) => {
    await workers.stop();
    throw error;
  });
  startLine(report, { workers: flags.workers });
  const signal = await stopped;
  log.info('stopping every worker', { signal });
  await workers.stop();
  return 0;
}

/** The one line on stdout: scripts and tests read the bound address from it. */
function startLine(report: { where: string; store: string; peers: number; files: number }, also: { workers?: number; metrics?: string } = {}): void {
  const workers = also.workers ? ` · ${also.workers} workers` : '';
  const metrics = also.metrics ? ` · metrics ${also.metrics}` : '';
  process.stdout.write(`index server listening on udp ${report.where}${workers} · store ${report.store} · loaded ${report.peers} peers, ${report.files} files${metrics}\n`);
}

/** A second stop signal: a person who will not wait for the store to close. */
function exitAtOnce(log: Logger): (signal: NodeJS.Signals) => void {
  return (signal) => {
    log.warn('second signal: exiting at once', { signal });
    process.exit(1);
  };
}

/** A failure to start as a sentence that says what to do: a usage mistake (exit 2), or why it cannot start. */
function explainStartFailure(error: unknown, flags: { host: string; port: number }): unknown {
  const { code, cause } = error as { code?: string; cause?: NodeJS.ErrnoException };
  if (code === 'BAD_OPTION') return new UsageError((error as Error).message);
  if (code !== 'BIND_FAILED') return error;
  const where = `UDP ${flags.host.includes(':') ? `[${flags.host}]` : flags.host}:${flags.port}`;
  const why: Record<string, string> = {
    EADDRINUSE: 'the port is in use (another index server?); stop that one, or pick another port with --port or $P2FS_PORT',
    EACCES: 'not permitted to listen on that port; pick one above 1023',
    EADDRNOTAVAIL: 'no interface of this machine has that address; --host takes one of its addresses, 0.0.0.0 or ::',
  };
  return cause?.code && why[cause.code] ? new UsageError(`cannot listen on ${where}: ${why[cause.code]}`, false) : error;
}
