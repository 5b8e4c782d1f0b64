// How the command line reports failures: a usage mistake (exit 2) or an operation that failed
// (exit 1), always as a sentence, never a stack trace, for every error the peer expects.
// Imports stay light (types only from the areas below): every command, --version included, loads
// this file first.
import { constants } from 'node:os';
import { P2fsError } from '../errors/index.js';
import type { DownloadError } from '../transfer/index.js';

/** Exit codes of both programs (p2fs, p2fs-server). */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** A command interrupted by a signal exits as shells report it: 128 + its number (SIGINT 130, SIGTERM 143, SIGHUP 129). */
export const exitCodeOnSignal = (signal: NodeJS.Signals): number => 128 + constants.signals[signal];

/** The command line itself is wrong: unknown flag or command, missing or malformed value. */
export class UsageError extends P2fsError<'USAGE'> {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    /** Whether pointing at --help is of use (not when the message says what to do already). */
    readonly helpWouldHelp = true,
  ) {
    super('USAGE', message);
  }
}

/**
 * True for the failures a command anticipates: every P2fsError, and the system's own errors (EACCES,
 * ENOSPC…), whose messages name the path or port. Anything else is a bug and keeps its stack.
 */
export function isExpected(error: unknown): error is Error {
  return error instanceof P2fsError || isSystemError(error);
}

/** What to do about a failure, said after its message, where the command line knows the way out. */
const WHAT_TO_DO: Readonly<Record<string, string>> = {
  DESTINATION_EXISTS: 'pass --overwrite to replace it',
};

/** The text a person reads; a DownloadError lists every peer tried and why. */
export function describeError(error: unknown): string {
  if (!isExpected(error)) return error instanceof Error ? (error.stack ?? error.message) : String(error);
  const code = (error as { code?: unknown }).code;
  const hint = typeof code === 'string' && WHAT_TO_DO[code] ? ` (${WHAT_TO_DO[code]})` : '';
  if (error.name === 'DownloadError' && (error as DownloadError).attempts.length > 0) {
    const tried = (error as DownloadError).attempts.map((a) => `  - ${a.holder}: ${a.reason}`).join('\n');
    return `${error.message}${hint}\npeers tried:\n${tried}`;
  }
  return `${error.message}${hint}`;
}

function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'syscall' in error && typeof (error as NodeJS.ErrnoException).code === 'string';
}

export function exitCodeOf(error: unknown): number {
  return error instanceof UsageError ? EXIT_USAGE : EXIT_FAILED;
}

/** For --json: the error as data. */
export function errorAsJson(error: unknown): { code: string; message: string } {
  const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : 'INTERNAL';
  return { code, message: describeError(error) };
}
