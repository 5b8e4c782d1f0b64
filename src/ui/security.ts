// What keeps other web pages (and other machines) from driving the peer through its page:
// - Host must name this server by IP literal or `localhost` (a DNS-rebinding page cannot pass);
// - every /api request carries the session token, which only the page served here knows (another
//   origin cannot read the page, and a custom header forces a CORS preflight that we never grant);
// - requests that change state must also come from our own origin (Origin / Sec-Fetch-Site);
// - every file name the API takes is checked with the protocol's rule and resolved inside its folder.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { realpath, lstat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileNameProblem, indexName } from '../peer/share/names.js';
import { UiError, badRequest } from './errors.js';

/** The header the page sends its session token in. */
export const TOKEN_HEADER = 'x-p2fs-token';

/** A fresh per-process secret (128 random bits, hex). */
export const newSessionToken = (): string => randomBytes(16).toString('hex');

const forbidden = (message: string) => new UiError(403, 'FORBIDDEN', message);

/**
 * The Host header must be `<IP literal or localhost>:<our port>`. Names other than localhost are
 * refused: a page on evil.example that rebinds its name to 127.0.0.1 still sends `Host: evil.example`.
 */
export function checkHost(req: IncomingMessage, port: number): string {
  const host = req.headers.host;
  if (!host) throw forbidden('the request has no Host header');
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d+)$/.exec(host);
  const name = match?.[1]?.replace(/^\[|\]$/g, '');
  if (!match || Number(match[2]) !== port || !name || !(isIP(name) || name.toLowerCase() === 'localhost')) {
    throw forbidden(`Host ${JSON.stringify(host)} is not this peer's page (use http://127.0.0.1:${port}/)`);
  }
  return host;
}

/** The session token, from the header (or, for EventSource and links, which cannot set headers, the query). */
export function checkToken(req: IncomingMessage, url: URL, token: string, allowQuery: boolean): void {
  const given = req.headers[TOKEN_HEADER] ?? (allowQuery ? url.searchParams.get('token') : undefined);
  if (typeof given !== 'string' || !sameSecret(given, token)) {
    throw forbidden(`the request lacks this page's session token (the ${TOKEN_HEADER} header): reload the page`);
  }
}

/** A request that changes state must come from this page: Origin (when sent) is ours, and no cross-site fetch. */
export function checkSameOrigin(req: IncomingMessage, host: string): void {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) {
    throw forbidden(`requests from ${origin} may not change this peer; only its own page (http://${host}) may`);
  }
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw forbidden(`a ${site} request may not change this peer; only its own page may`);
  }
}

function sameSecret(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A file name as the protocol allows it (NFC), or BAD_REQUEST naming the field and the rule. */
export function checkFileName(value: unknown, field: string): string {
  if (typeof value !== 'string') throw badRequest(field, `${field} must be a string (a file name)`);
  const problem = fileNameProblem(value);
  if (problem) throw badRequest(field, problem.replace(/^file name/, field));
  return indexName(value);
}

/** A peer name as the protocol allows it. */
export function checkPeerName(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9._-]{1,32}$/.test(value)) {
    throw badRequest(field, `${field} must be 1 to 32 characters: letters, digits, '.', '_' and '-'`);
  }
  return value;
}

/**
 * The path of `name` directly inside `dir`, for writing a new file: the name passes the protocol's
 * rule, so it has no separator and is not `.` or `..`; the joined path is checked again anyway.
 */
export async function pathInside(dir: string, name: string): Promise<string> {
  const root = await realpath(dir);
  const path = join(root, name);
  if (dirname(resolve(path)) !== root || basename(path) !== name) throw badRequest('name', `${JSON.stringify(name)} is not a plain file name`);
  return path;
}

/**
 * An existing regular file directly inside `dir`, symbolic links resolved: anything that leads
 * outside the folder, into a subfolder, or is not a regular file is NOT_FOUND.
 */
export async function existingFileInside(dir: string, name: string): Promise<{ path: string; size: number }> {
  const notFound = new UiError(404, 'NOT_FOUND', `there is no file ${JSON.stringify(name)} in ${dir}`);
  let root: string;
  let real: string;
  try {
    root = await realpath(dir);
    real = await realpath(join(root, name));
  } catch {
    throw notFound;
  }
  if (dirname(real) !== root) throw notFound;
  const info = await lstat(real);
  if (!info.isFile()) throw notFound;
  return { path: real, size: info.size };
}
