// How the command line reports failures: a usage mistake (exit 2) or an operation that failed
// (exit 1), always as a sentence, never a stack trace, for every error the peer expects.
import { P2fsError } from '../errors/index.js';
import { DownloadError } from '../transfer/index.js';

/** Exit codes of scripts/peer.ts. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** The command line itself is wrong: unknown flag or command, missing or malformed value. */
export class UsageError extends P2fsError<'USAGE'> {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** True for the failures the peer anticipates (every P2fsError); anything else is a bug and keeps its stack. */
export function isExpected(error: unknown): error is P2fsError {
  return error instanceof P2fsError;
}

/** The text a person reads; a DownloadError lists every peer tried and why. */
export function describeError(error: unknown): string {
  if (error instanceof DownloadError && error.attempts.length > 0) {
    const tried = error.attempts.map((a) => `  - ${a.holder}: ${a.reason}`).join('\n');
    return `${error.message}\npeers tried:\n${tried}`;
  }
  if (isExpected(error)) return error.message;
  if (error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('E')) {
    return error.message; // a system error (EACCES, EADDRINUSE…): its message names the path or port
  }
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

export function exitCodeOf(error: unknown): number {
  return error instanceof UsageError ? EXIT_USAGE : EXIT_FAILED;
}

/** For --json: the error as data. */
export function errorAsJson(error: unknown): { code: string; message: string } {
  const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : 'INTERNAL';
  return { code, message: describeError(error) };
}
