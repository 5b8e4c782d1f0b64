import { StoreError } from './store-error.js';

/**
 * `work`, or a STORE_UNAVAILABLE rejection once `ms` have passed: a store that stops answering (a
 * Redis reconnect loop, a black-holed TCP connection) must surface as an error, not a hung caller.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreError('STORE_UNAVAILABLE', `${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
