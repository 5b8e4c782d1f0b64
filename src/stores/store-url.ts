// Store URLs name both the kind of store and where it is. Parsing happens once, up front, so a typo
// fails at start-up with the URL in the message instead of as a connection error later.
import { StoreError } from './store-error.js';

export type StoreTarget =
  | { kind: 'memory'; /** Stores opened with the same name share one map; none means a private map. */ name: string | undefined }
  | { kind: 'sqlite'; /** A file path, relative to the working directory unless absolute. */ path: string }
  | { kind: 'postgres' | 'redis' | 'mysql'; url: URL };

/** The server's store when none is configured. */
export const DEFAULT_STORE_URL = 'sqlite://data/registry.sqlite';

export const ACCEPTED_URLS =
  'sqlite://<path>, postgres://…, postgresql://…, redis://…, mysql://…, mariadb://…, memory://[name]';

const NETWORK_KINDS = {
  'postgres:': 'postgres',
  'postgresql:': 'postgres',
  'redis:': 'redis',
  'mysql:': 'mysql',
  'mariadb:': 'mysql',
} as const;

export function parseStoreUrl(text: string): StoreTarget {
  const invalid = (problem: string) =>
    new StoreError('STORE_URL_INVALID', `Invalid store URL "${redactUrl(text)}": ${problem}; accepted: ${ACCEPTED_URLS}`);

  // sqlite:// and memory:// are not host-based, so the WHATWG parser would split "data/x.sqlite"
  // into a host and a path: take everything after the scheme literally instead.
  const local = /^(sqlite|memory):\/\/(.*)$/is.exec(text);
  if (local) {
    const [, scheme, rest] = local as unknown as [string, string, string];
    if (scheme.toLowerCase() === 'memory') return { kind: 'memory', name: rest === '' ? undefined : rest };
    if (rest === '') throw invalid('no file path after sqlite://');
    return { kind: 'sqlite', path: rest };
  }

  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('not a URL');
  }
  const kind = NETWORK_KINDS[url.protocol as keyof typeof NETWORK_KINDS];
  if (kind === undefined) throw invalid(`unknown scheme "${url.protocol}"`);
  if (url.hostname === '') throw invalid('no host');
  // @keyv/mysql reads only user, password, host, port and database, whatever the scheme says.
  if (url.protocol === 'mariadb:') url = new URL(`mysql:${text.slice('mariadb:'.length)}`);
  return { kind, url };
}

/** The URL with any password replaced by ***, fit for logs and error messages. */
export function redactUrl(text: string): string {
  return text
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*:)[^@/?#]*@/i, '$1***@')
    .replace(/([?&]password=)[^&#]*/gi, '$1***');
}
