// Downloads one file from the peers that hold it, and only then moves it into place. A file
// published with a pieces root is fetched from every holder at once, piece by piece, each piece
// proven against the root before it is written (swarm.ts). One published without (by a peer that
// predates pieces) is fetched from one holder at a time, resuming at the next chunk when one fails,
// and verified by size and SHA-256 at the end. A failed download leaves nothing at the destination
// name; a killed one leaves a .part file that the next call resumes.
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { validateTcpRequest } from '../../generated/catalogue.js';
import { silentLogger, type Logger } from '../../log/index.js';
import { reasonFromSchemaError, show } from '../../protocol/index.js';
import type { ChunkEncoding } from '../codec/layout.js';
import { DownloadError, HolderFailure, type HolderAttempt } from '../errors.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_MAX_HOLDERS, DEFAULT_STALL_TIMEOUT_MS, HOLDER_REQUERY_MS } from '../limits.js';
import { CHUNKS_PER_PIECE, pieceCount } from '../pieces/merkle.js';
import { fetchFromHolder } from './fetch-from-holder.js';
import { openTcpConnection, type OpenConnection } from './holder-connection.js';
import { describeHolder, type Holder } from './holders.js';
import { PartFile } from './part-file.js';
import { swarmDownload, type DroppedHolder, type PieceTarget } from './swarm.js';

export type { Holder } from './holders.js';
export type { OpenConnection } from './holder-connection.js';
export type { DroppedHolder } from './swarm.js';

/** What a download must end up with: what the index published (a pieces root enables the swarm). */
export interface ExpectedFile {
  size?: number;
  sha256?: string;
  piecesRoot?: string;
  chunks?: number;
}

export interface DownloadOptions {
  /** The file name as published (it is NFC-normalised, as the holders do). */
  file: string;
  /**
   * Peers that hold the file. With a pieces root, up to maxHolders of them at once; without, each
   * in turn, once (twice if it forces a restart from chunk 1).
   */
  holders: readonly Holder[];
  /** Folder to write into (created if missing). The file lands at <outDir>/<file>. */
  outDir: string;
  /** Size and SHA-256 (and pieces root and chunk count) the result must have, e.g. what the index published. */
  expected?: ExpectedFile;
  /** Holders fetched from at once, by pieces. Default DEFAULT_MAX_HOLDERS. */
  maxHolders?: number;
  /** Asks the index again who holds the file, every HOLDER_REQUERY_MS while a swarm download runs. */
  findHolders?: () => Promise<readonly Holder[]>;
  /** How often findHolders is asked. Default HOLDER_REQUERY_MS. */
  requeryMs?: number;
  /** How a connection to a holder is opened. Default: TCP to its ip and tcpPort. */
  openConnection?: OpenConnection;
  /** A holder was dropped from this download (it sent a corrupt piece, lied or broke the protocol). */
  onHolderDropped?: (dropped: DroppedHolder) => void;
  /** Replace an existing file at the destination. Default false: refuse with DESTINATION_EXISTS. */
  overwrite?: boolean;
  /** Keep the .part file when the download fails, to resume later. Default false: remove it. */
  keepPartial?: boolean;
  /** A holder that sends no frame for this long is left for the next. Default DEFAULT_STALL_TIMEOUT_MS. */
  stallTimeoutMs?: number;
  /** Default DEFAULT_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
  /** After each write to disk: bytes verified so far (resumed bytes included). */
  onProgress?: (progress: DownloadProgress) => void;
  logger?: Logger;
  signal?: AbortSignal;
}

export interface DownloadProgress {
  bytes: number;
  totalBytes?: number;
  /** Chunks verified so far. */
  chunk: number;
  /** Name of the holder sending (in a swarm: whose piece verified last). */
  holder: string;
  /** Names of the holders being fetched from now (a swarm download). */
  holders?: string[];
}

export interface DownloadResult {
  /** Where the verified file now is. */
  path: string;
  file: string;
  size: number;
  sha256: string;
  encoding: ChunkEncoding;
  /** The file's chunk count. */
  chunks: number;
  /** The holder that sent the last chunk. */
  holder: string;
  /** The chunk this call started from: above 1 when it resumed an earlier .part file. */
  resumedFromChunk: number;
  /** Holders that failed along the way, and why. */
  attempts: HolderAttempt[];
  /** Bytes each holder sent that were kept, by name (resumed bytes are nobody's). */
  bytesByHolder: Record<string, number>;
  /** Holders dropped from this download, and why. */
  dropped: DroppedHolder[];
}

export async function downloadFile(options: DownloadOptions): Promise<DownloadResult> {
  const file = checkOptions(options);
  const log = (options.logger ?? silentLogger).child({ component: 'download', file });
  const expected = options.expected ?? {};
  const destination = join(options.outDir, file);
  const attempts: HolderAttempt[] = [];

  const holders = options.holders.filter((holder) => {
    const field = disagreement(holder, expected);
    if (field) {
      const reason = `publishes ${field} ${holder[field]}, not the expected ${expected[field]}`;
      attempts.push({ holder: describeHolder(holder), code: 'NOT_AS_PUBLISHED', reason, fromChunk: 1, chunksReceived: 0 });
    }
    return !field;
  });
  if (holders.length === 0) {
    const why = attempts.length === 0 ? 'no holders were given' : `no holder publishes the expected file: ${summary(attempts)}`;
    throw new DownloadError('NO_HOLDERS', `cannot download ${show(file)}: ${why}`, file, attempts);
  }
  try {
    await mkdir(options.outDir, { recursive: true });
  } catch (error) {
    throw new DownloadError('IO', `cannot create ${options.outDir}: ${(error as Error).message}`, file, [], { cause: error });
  }
  if (!options.overwrite && (await exists(destination))) {
    throw new DownloadError('DESTINATION_EXISTS', `${destination} already exists; not replaced`, file);
  }

  const target = pieceTarget(expected, holders);
  if (target) return downloadByPieces(options, file, target, holders, attempts, destination, log);

  const part = await PartFile.open(options.outDir, file, expected);
  const resumedFromChunk = part.nextChunk;
  const resumedBytes = part.bytes;
  if (resumedFromChunk > 1) log.info('download.resuming', { part: part.paths.part, fromChunk: resumedFromChunk, bytes: part.bytes });
  try {
    for (let index = 0, retriedIndex = -1; index < holders.length; index++) {
      if (options.signal?.aborted) throw new DownloadError('ABORTED', `download of ${show(file)} aborted`, file, attempts);
      const holder = holders[index]!;
      const fromChunk = part.nextChunk;
      const totalBytes = expected.size ?? holder.size;
      log.info('download.attempt', { holder: describeHolder(holder), fromChunk });
      try {
        const end = await fetchFromHolder({
          holder, file, part, log,
          openConnection: options.openConnection ?? openTcpConnection,
          connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
          stallTimeoutMs: options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
          ...(totalBytes === undefined ? {} : { maxBytes: totalBytes }),
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.openConnection ? { openConnection: options.openConnection } : {}),
          onWritten: () => options.onProgress?.({ bytes: part.bytes, ...(totalBytes === undefined ? {} : { totalBytes }), chunk: part.chunks, holder: holder.name }),
        });
        const sha256 = part.digest();
        if (part.bytes !== end.size || sha256 !== end.sha256) {
          throw new HolderFailure('VERIFY_FAILED', `received ${part.bytes} bytes with SHA-256 ${sha256}, but FILE-END says ${end.size} bytes with ${end.sha256}`);
        }
        const unpublished = disagreement(holder, end);
        if (unpublished) throw new HolderFailure('NOT_AS_PUBLISHED', `sent a file with ${unpublished} ${end[unpublished]}, but published ${holder[unpublished]}`);
        const unexpected = disagreement(expected, end);
        if (unexpected) throw new HolderFailure('NOT_AS_PUBLISHED', `sent a file with ${unexpected} ${end[unexpected]}, not the expected ${expected[unexpected]}`);
        await part.commit(destination, options.overwrite ?? false);
        log.info('download.finished', { holder: describeHolder(holder), size: end.size, sha256, chunks: end.chunk, path: destination });
        const bytesByHolder = { [holder.name]: end.size - resumedBytes };
        return { path: destination, file, size: end.size, sha256, encoding: part.encoding!, chunks: end.chunk, holder: holder.name, resumedFromChunk, attempts, bytesByHolder, dropped: [] };
      } catch (error) {
        if (!(error instanceof HolderFailure)) throw error;
        attempts.push({ holder: describeHolder(holder), code: error.code, reason: error.message, fromChunk, chunksReceived: Math.max(0, part.chunks - fromChunk + 1) });
        log.warn('download.holder-failed', { holder: describeHolder(holder), code: error.code, reason: error.message, chunks: part.chunks });
        if (error.discardPartial) {
          // Which chunk was bad cannot be known: the data goes, and the next holder starts over.
          // A holder that only could not continue someone else's data gets one fresh try itself.
          await part.restart();
          if (error.code === 'BAD_FRAME' && retriedIndex !== index) {
            retriedIndex = index;
            index--;
          }
        }
      }
    }
    throw new DownloadError('ALL_HOLDERS_FAILED', `could not download ${show(file)}: ${summary(attempts)}`, file, attempts);
  } catch (error) {
    // A destination that appeared meanwhile is not replaced, but the verified data is not lost.
    const keep = options.keepPartial || (error instanceof DownloadError && error.code === 'DESTINATION_EXISTS');
    await (keep ? part.release() : part.discard()).catch(() => {});
    if (error instanceof DownloadError) {
      throw error.attempts.length > 0 || attempts.length === 0 ? error : new DownloadError(error.code, error.message, file, attempts, { cause: error });
    }
    throw new DownloadError('IO', `download of ${show(file)} failed writing to disk: ${(error as Error).message}`, file, attempts, { cause: error });
  }
}

/** The pieces to verify against: the expected root, else the one the first holder with one published. */
function pieceTarget(expected: ExpectedFile, holders: readonly Holder[]): PieceTarget | undefined {
  const source = expected.piecesRoot !== undefined && expected.chunks !== undefined ? expected : holders.find((h) => h.piecesRoot !== undefined && h.chunks !== undefined);
  if (!source) return undefined;
  const size = expected.size ?? source.size;
  const sha256 = expected.sha256 ?? source.sha256;
  return {
    root: source.piecesRoot!, chunks: source.chunks!, pieces: pieceCount(source.chunks!),
    ...(size === undefined ? {} : { size }), ...(sha256 === undefined ? {} : { sha256 }),
  };
}

async function downloadByPieces(
  options: DownloadOptions, file: string, target: PieceTarget, holders: readonly Holder[], attempts: HolderAttempt[],
  destination: string, log: Logger,
): Promise<DownloadResult> {
  const expected = options.expected ?? {};
  const part = await PartFile.open(options.outDir, file, { ...(target.size === undefined ? {} : { size: target.size }), ...(target.sha256 === undefined ? {} : { sha256: target.sha256 }) }, { root: target.root, count: target.pieces });
  const resumedBytes = part.bytes;
  let resumedPieces = 0;
  for (let piece = 0; piece < target.pieces; piece++) if (part.hasPiece(piece)) resumedPieces++;
  if (resumedPieces > 0) log.info('download.resuming', { part: part.paths.part, pieces: resumedPieces, bytes: resumedBytes });
  const mismatch = (holder: Holder): string | undefined => {
    const field = disagreement(holder, expected) ?? disagreement(holder, target);
    if (field) return `publishes ${field} ${holder[field]}, not the expected ${target[field] ?? expected[field]}`;
    if (holder.piecesRoot === undefined) return 'publishes no pieces root';
    if (holder.piecesRoot !== target.root || holder.chunks !== target.chunks) return `publishes pieces root ${holder.piecesRoot}, not the expected ${target.root}`;
    return undefined;
  };
  try {
    const outcome = await swarmDownload({
      file, target, holders, part, log,
      openConnection: options.openConnection ?? openTcpConnection,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      stallTimeoutMs: options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
      maxHolders: options.maxHolders ?? DEFAULT_MAX_HOLDERS,
      requeryMs: options.requeryMs ?? HOLDER_REQUERY_MS,
      mismatch,
      ...(options.findHolders ? { findHolders: options.findHolders } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onHolderDropped ? { onDropped: options.onHolderDropped } : {}),
      onProgress: (progress) => options.onProgress?.({
        bytes: progress.bytes, ...(target.size === undefined ? {} : { totalBytes: target.size }),
        chunk: Math.min(target.chunks, progress.pieces * CHUNKS_PER_PIECE), holder: progress.holder, holders: progress.holders,
      }),
    });
    attempts.push(...outcome.attempts);
    // Every piece was proven against the root: the file is the published one, no second pass over it.
    const size = part.bytes;
    if (target.size !== undefined && size !== target.size) {
      throw new DownloadError('IO', `download of ${show(file)} holds ${size} bytes after every piece verified, not ${target.size}`, file, attempts);
    }
    const sha256 = outcome.fileEnd?.sha256 ?? target.sha256 ?? (await part.hashWritten());
    await part.commit(destination, options.overwrite ?? false);
    log.info('download.finished', { holders: outcome.bytesByHolder, dropped: outcome.dropped.length, size, sha256, path: destination });
    return {
      path: destination, file, size, sha256, encoding: outcome.encoding ?? 'utf8', chunks: target.chunks, holder: outcome.lastHolder,
      resumedFromChunk: resumedPieces * CHUNKS_PER_PIECE + 1, attempts, bytesByHolder: outcome.bytesByHolder, dropped: outcome.dropped,
    };
  } catch (error) {
    const keep = options.keepPartial || (error instanceof DownloadError && error.code === 'DESTINATION_EXISTS');
    await (keep ? part.release() : part.discard()).catch(() => {});
    if (error instanceof DownloadError) throw error.attempts.length > 0 || attempts.length === 0 ? error : new DownloadError(error.code, error.message, file, attempts, { cause: error });
    throw new DownloadError('IO', `download of ${show(file)} failed writing to disk: ${(error as Error).message}`, file, attempts, { cause: error });
  }
}

/** The NFC file name, after checking every option; throws DownloadError INVALID_OPTIONS. */
function checkOptions(options: DownloadOptions): string {
  const invalid = (why: string) => new DownloadError('INVALID_OPTIONS', why, String(options.file));
  if (typeof options.file !== 'string') throw invalid(`file must be a string, got ${show(options.file)}`);
  const file = options.file.normalize('NFC');
  const probe = { type: 'DOWNLOAD', rq: 0, file };
  if (!validateTcpRequest.DOWNLOAD(probe)) throw invalid(reasonFromSchemaError(validateTcpRequest.DOWNLOAD.errors![0]!, 'DOWNLOAD'));
  if (typeof options.outDir !== 'string' || options.outDir === '') throw invalid('outDir must be a folder path');
  if (!Array.isArray(options.holders)) throw invalid('holders must be an array');
  for (const [index, holder] of options.holders.entries()) {
    if (typeof holder?.ip !== 'string' || !Number.isInteger(holder.tcpPort) || holder.tcpPort < 1 || holder.tcpPort > 65535) {
      throw invalid(`holders[${index}] needs an ip and a tcpPort from 1 to 65535, got ${show(holder)}`);
    }
  }
  for (const name of ['stallTimeoutMs', 'connectTimeoutMs', 'maxHolders', 'requeryMs'] as const) {
    const value = options[name];
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) throw invalid(`${name} must be a positive integer, got ${show(value)}`);
  }
  return file;
}

/** The field in which two descriptions of a file contradict each other (unknowns agree with anything). */
function disagreement(a: { size?: number; sha256?: string }, b: { size?: number; sha256?: string }): 'size' | 'sha256' | undefined {
  if (a.size !== undefined && b.size !== undefined && a.size !== b.size) return 'size';
  if (a.sha256 !== undefined && b.sha256 !== undefined && a.sha256 !== b.sha256) return 'sha256';
  return undefined;
}

function summary(attempts: readonly HolderAttempt[]): string {
  return `tried ${attempts.map((a) => `${a.holder}: ${a.reason}`).join('; ')}`;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
