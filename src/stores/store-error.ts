// The one error type the store layer rejects with. Callers branch on `code` (src/errors/codes.ts);
// the message names the store (redacted URL and namespace) and what failed, and `cause` keeps the
// driver's own error.
import { P2fsError, type ErrorCode } from '../errors/index.js';

export type StoreErrorCode = ErrorCode<'StoreError'>;

export class StoreError extends P2fsError<StoreErrorCode> {
  override readonly name = 'StoreError';
}

// Driver error codes and class names that mean "could not reach the store" rather than "the store
// refused this": the caller may retry the first kind later, the second needs a fix.
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_CANTOPEN',
  'PROTOCOL_CONNECTION_LOST', // mysql2
  '57P01', // PostgreSQL admin_shutdown
  '57P03', // PostgreSQL cannot_connect_now
]);
const UNREACHABLE_NAMES: ReadonlySet<string> = new Set([
  'ClientOfflineError', // node-redis, with the offline queue disabled
  'ClientClosedError',
  'SocketClosedUnexpectedlyError',
  'ConnectionTimeoutError',
]);

export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || code.startsWith('08'))) return true;
  if (UNREACHABLE_NAMES.has(error.name) || UNREACHABLE_NAMES.has(error.constructor.name)) return true;
  // pg reports a dropped or timed-out connection only in the message.
  if (/connection terminated|timeout exceeded when trying to connect/i.test(error.message)) return true;
  return error instanceof AggregateError && error.errors.some(isUnreachable);
}

/** The driver's words for an error; AggregateError (IPv4 + IPv6 connect) has an empty message. */
export function describeCause(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') {
    return error.errors.map(describeCause).join('; ');
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/** Wraps a driver error as a StoreError saying `what` failed; StoreErrors pass through unchanged. */
export function toStoreError(error: unknown, what: string): StoreError {
  if (error instanceof StoreError) return error;
  const code = isUnreachable(error) ? 'STORE_UNAVAILABLE' : 'STORE_FAILED';
  return new StoreError(code, `${what}: ${describeCause(error)}`, { cause: error });
}
