// Small helpers over node:http: JSON replies, JSON errors, and bodies read with a size limit.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UiError, toUiError } from './errors.js';

/** JSON request bodies are small (a file name, a contact): anything bigger is refused unread. */
export const MAX_JSON_BODY_BYTES = 16 * 1024;

/** Headers on every reply: no sniffing, no framing, no referrer, nothing cached. */
export const BASE_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
} as const;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...BASE_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, error: unknown): void {
  const ui = toUiError(error);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, ui.status, { error: { code: ui.code, message: ui.message, ...ui.details } });
}

/** The media type of a request, lower case, without parameters. */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Refuses a body whose declared length is over `limit` before reading any of it. */
export function checkDeclaredLength(req: IncomingMessage, limit: number): void {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
}

export const tooLarge = (limit: number) => new UiError(413, 'TOO_LARGE', `the request body is over the ${limit}-byte limit of this endpoint`);

/** Reads a JSON object body (Content-Type application/json only, at most `limit` bytes). */
export async function readJson(req: IncomingMessage, limit = MAX_JSON_BODY_BYTES): Promise<Record<string, unknown>> {
  if (mediaType(req) !== 'application/json') {
    throw new UiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'the body must be JSON with Content-Type: application/json');
  }
  checkDeclaredLength(req, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new UiError(400, 'BAD_REQUEST', 'the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UiError(400, 'BAD_REQUEST', 'the body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
