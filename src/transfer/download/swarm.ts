// A download from every holder at once. Each holder gets a worker with one connection, reused for
// window after window of pieces (the scheduler says which); every piece is proven against the
// pieces root before it is written. A holder that sends a corrupt piece, lies in FILE-END or breaks
// the protocol is dropped for this download and named; one that fails otherwise (busy, gone, stalled)
// is tried again later, a few times. Holders found by a re-query join while the download runs.
import type { Logger } from '../../log/index.js';
import { show } from '../../protocol/index.js';
import type { ChunkEncoding } from '../codec/layout.js';
import { pieceSlabPool, type ReceivedPiece } from '../codec/piece-decoder.js';
import { DownloadError, HolderFailure, type HolderAttempt } from '../errors.js';
import { MAX_HOLDER_FAILURES, MAX_QUEUED_WRITE_BYTES, WINDOWS_IN_FLIGHT } from '../limits.js';
import { firstChunkOf } from '../pieces/merkle.js';
import { PieceVerifier } from '../pieces/verify-piece.js';
import { asConnectFailure, HolderConnection, type OpenConnection } from './holder-connection.js';
import { describeHolder, holderKey, type Holder } from './holders.js';
import type { PartFile } from './part-file.js';
import { PieceScheduler } from './piece-scheduler.js';

/** What a swarm download verifies against: the published file. */
export interface PieceTarget {
  root: string;
  chunks: number;
  pieces: number;
  size?: number;
  sha256?: string;
}

/** A holder dropped from a download, and why. */
export interface DroppedHolder {
  holder: string;
  code: HolderAttempt['code'];
  reason: string;
}

export interface SwarmProgress {
  /** Verified bytes so far, resumed ones included. */
  bytes: number;
  /** Verified pieces so far. */
  pieces: number;
  /** The holder whose piece verified last. */
  holder: string;
  /** Names of the holders being fetched from now. */
  holders: string[];
}

export interface SwarmOptions {
  file: string;
  target: PieceTarget;
  holders: readonly Holder[];
  part: PartFile;
  openConnection: OpenConnection;
  connectTimeoutMs: number;
  stallTimeoutMs: number;
  maxHolders: number;
  /** Asks the index again who holds the file (holders that joined are used from then on). */
  findHolders?: () => Promise<readonly Holder[]>;
  requeryMs: number;
  /** Why a holder cannot serve this file (it published something else), or undefined. */
  mismatch: (holder: Holder) => string | undefined;
  signal?: AbortSignal;
  log: Logger;
  onProgress?: (progress: SwarmProgress) => void;
  onDropped?: (dropped: DroppedHolder) => void;
}

export interface SwarmOutcome {
  /** Bytes each holder sent that verified and were kept, by holder name. */
  bytesByHolder: Record<string, number>;
  dropped: DroppedHolder[];
  attempts: HolderAttempt[];
  encoding: ChunkEncoding | undefined;
  /** The holder whose piece completed the file. */
  lastHolder: string;
  /** What FILE-END said, when the last piece arrived in this run. */
  fileEnd?: { size: number; sha256: string };
}

/** Failures that say the holder cannot be trusted for this file: it is not asked again. */
const DROP: ReadonlySet<string> = new Set(['CORRUPT_PIECE', 'NOT_AS_PUBLISHED', 'BAD_FRAME']);

export async function swarmDownload(options: SwarmOptions): Promise<SwarmOutcome> {
  const { file, target, part, log } = options;
  const scheduler = new PieceScheduler(target.pieces, (piece) => part.hasPiece(piece));
  const verifier = new PieceVerifier(target.root, target.pieces);
  const slabs = pieceSlabPool();
  const known = new Map<string, Holder>();
  const active = new Map<string, Holder>();
  const connections = new Set<HolderConnection>();
  const workers = new Set<Promise<void>>();
  const failures = new Map<string, { count: number; retryAt: number }>();
  const droppedKeys = new Set<string>();
  const outcome: SwarmOutcome = { bytesByHolder: {}, dropped: [], attempts: [], encoding: part.encoding, lastHolder: '' };
  let fatal: unknown;
  let lastProgress = 0;

  const consider = (holders: readonly Holder[]) => {
    for (const holder of holders) {
      const key = holderKey(holder);
      if (known.has(key) || droppedKeys.has(key)) continue;
      const why = options.mismatch(holder);
      if (why) {
        log.info('download.holder-skipped', { holder: describeHolder(holder), reason: why });
        continue;
      }
      known.set(key, holder);
    }
  };

  const progress = (holder: string, force = false) => {
    const now = Date.now();
    if (!force && now - lastProgress < PROGRESS_INTERVAL_MS) return;
    lastProgress = now;
    options.onProgress?.({ bytes: part.bytes + part.queuedBytes, pieces: scheduler.verified, holder, holders: [...active.values()].map((h) => h.name) });
  };

  const startWorkers = () => {
    const now = Date.now();
    for (const [key, holder] of known) {
      if (active.size >= options.maxHolders) return;
      if (active.has(key) || droppedKeys.has(key)) continue;
      const failed = failures.get(key);
      if (failed && (failed.count >= MAX_HOLDER_FAILURES || failed.retryAt > now)) continue;
      active.set(key, holder);
      const running: Promise<void> = work(holder).finally(() => {
        active.delete(key);
        workers.delete(running);
      });
      workers.add(running);
    }
  };

  /** Whether a holder that failed may be tried again later in this download. */
  const retryPending = () => [...known.keys()].some((key) => {
    const failed = failures.get(key);
    return !droppedKeys.has(key) && !active.has(key) && failed !== undefined && failed.count < MAX_HOLDER_FAILURES;
  });

  async function work(holder: Holder): Promise<void> {
    const key = holderKey(holder);
    let connection: HolderConnection | undefined;
    try {
      const socket = await options.openConnection(holder, { timeoutMs: options.connectTimeoutMs, reusedReadBuffer: true, ...(options.signal ? { signal: options.signal } : {}) }).catch(asConnectFailure);
      connection = new HolderConnection(socket, { holder, file, chunks: target.chunks, stallTimeoutMs: options.stallTimeoutMs, slabs, log });
      connections.add(connection);
      if (scheduler.complete) return;
      log.info('download.holder-started', { holder: describeHolder(holder) });
      while (!scheduler.complete && fatal === undefined) {
        // The next window is asked while this one arrives, so the holder never idles a round trip.
        while (connection.rangesWaiting < WINDOWS_IN_FLIGHT) {
          const next = scheduler.next(key);
          if (!next) break;
          connection.ask(next.first, next.last);
        }
        if (connection.rangesWaiting === 0) {
          await scheduler.waitForChange();
          continue;
        }
        for await (const received of connection.receive()) {
          await accept(holder, key, received);
          if (scheduler.complete) break;
        }
        scheduler.windowDone(key);
      }
    } catch (error) {
      if (scheduler.complete) return; // connections closed once the file was whole
      if (!(error instanceof HolderFailure)) {
        fatal ??= error;
        return;
      }
      const attempt = { holder: describeHolder(holder), code: error.code, reason: error.message, fromChunk: firstChunkOf(connection?.receivingFrom ?? 0), chunksReceived: 0 };
      outcome.attempts.push(attempt);
      if (DROP.has(error.code)) {
        droppedKeys.add(key);
        const dropped = { holder: holder.name, code: error.code, reason: error.message };
        outcome.dropped.push(dropped);
        log.warn('download.holder-dropped', { holder: describeHolder(holder), code: error.code, reason: error.message });
        options.onDropped?.(dropped);
      } else {
        const count = (failures.get(key)?.count ?? 0) + 1;
        failures.set(key, { count, retryAt: Date.now() + RETRY_AFTER_MS * count });
        log.info('download.holder-failed', { holder: describeHolder(holder), code: error.code, reason: error.message, failures: count });
      }
    } finally {
      scheduler.release(key);
      if (connection) {
        connections.delete(connection);
        connection.close();
      }
    }
  }

  /** A piece from `holder`: proven, then queued for writing (or dropped as a duplicate). */
  async function accept(holder: Holder, key: string, received: ReceivedPiece): Promise<void> {
    if (!verifier.verifies(received)) {
      throw new HolderFailure('CORRUPT_PIECE', `sent a corrupt piece of ${show(file)} (piece ${received.piece} does not match the pieces root ${target.root.slice(0, 12)}…)`);
    }
    if (received.fileEnd) {
      const { size, sha256 } = received.fileEnd;
      if ((target.size !== undefined && size !== target.size) || (target.sha256 !== undefined && sha256 !== target.sha256)) {
        throw new HolderFailure('NOT_AS_PUBLISHED', `its FILE-END says ${size} bytes with SHA-256 ${sha256}, but the file published is ${target.size} bytes with ${target.sha256}`);
      }
      outcome.fileEnd = received.fileEnd;
    }
    if (!scheduler.verify(received.piece, key)) {
      received.release(); // another holder's copy of it verified first
      return;
    }
    if (outcome.encoding === undefined) {
      outcome.encoding = received.encoding;
      await part.adoptEncoding(received.encoding);
    }
    outcome.bytesByHolder[holder.name] = (outcome.bytesByHolder[holder.name] ?? 0) + received.data.length;
    outcome.lastHolder = holder.name;
    const written = part.writePiece(received.piece, received.offset, received.data);
    written.then(received.release, (error: unknown) => {
      fatal ??= new DownloadError('IO', `download of ${show(file)} failed writing to disk: ${(error as Error).message}`, file, [], { cause: error });
    });
    if (part.queuedBytes > MAX_QUEUED_WRITE_BYTES) await written;
    progress(holder.name, scheduler.complete);
  }

  consider(options.holders);
  const requery = options.findHolders
    ? setInterval(() => {
        options.findHolders!().then(consider, (error: unknown) => log.info('download.requery-failed', { error: (error as Error).message }));
      }, options.requeryMs)
    : undefined;
  const onAbort = () => {
    fatal ??= new DownloadError('ABORTED', `download of ${show(file)} aborted`, file);
    for (const connection of connections) connection.close();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  try {
    let requeriedWhileIdle = false;
    while (!scheduler.complete && fatal === undefined) {
      startWorkers();
      if (active.size === 0) {
        if (!retryPending()) {
          if (!options.findHolders || requeriedWhileIdle) break;
          requeriedWhileIdle = true;
          consider(await options.findHolders().catch(() => []));
          continue;
        }
      } else {
        requeriedWhileIdle = false;
      }
      await scheduler.waitForChange();
    }
    if (fatal === undefined && scheduler.complete) {
      for (const connection of connections) connection.close();
      await Promise.all(workers);
      await part.settled();
      progress(outcome.lastHolder, true);
      return outcome;
    }
    for (const connection of connections) connection.close();
    await Promise.all(workers);
    if (fatal !== undefined) throw fatal;
    const missing = target.pieces - scheduler.verified;
    const tried = outcome.attempts.map((a) => `${a.holder}: ${a.reason}`).join('; ');
    throw new DownloadError('ALL_HOLDERS_FAILED', `could not download ${show(file)}: ${missing} of ${target.pieces} pieces missing and no holder left to ask${tried ? ` (tried ${tried})` : ''}`, file, outcome.attempts);
  } finally {
    clearInterval(requery);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Progress is reported at most this often (and once at the end). */
const PROGRESS_INTERVAL_MS = 100;
/** A failed holder is tried again after this long, times its failures so far. */
const RETRY_AFTER_MS = 1_000;

