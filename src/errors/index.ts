// The one base of every error P2FS throws on purpose. Each area keeps its own class (StoreError,
// RegistryError, DownloadError, …) for `instanceof`, and each class's codes, with what they mean, are
// listed in one table (codes.ts), from which docs/errors.md is generated. A P2fsError is a failure the
// program anticipates: its message is a sentence for people, its code is for programs, and neither
// needs a stack trace to be understood.
import type { ERROR_CODES } from './codes.js';

export { ERROR_CODES } from './codes.js';

/** The error classes, by name, as the table lists them. */
export type ErrorClassName = keyof typeof ERROR_CODES;

/** The codes of one error class. */
export type ErrorCode<C extends ErrorClassName> = keyof (typeof ERROR_CODES)[C]['codes'] & string;

export abstract class P2fsError<Code extends string = string> extends Error {
  abstract override readonly name: ErrorClassName;

  constructor(
    /** Stable: programs, the web page and tests branch on it (docs/errors.md). */
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
