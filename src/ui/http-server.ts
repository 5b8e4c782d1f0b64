// The web UI's HTTP server (node:http, no framework): security gates, then the routing table.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { UiContext } from './context.js';
import { UiError } from './errors.js';
import { BASE_HEADERS, sendError, sendJson } from './http.js';
import { ROUTES, type Route } from './routes.js';
import { checkHost, checkSameOrigin, checkToken } from './security.js';
import { statusView } from './api/status.js';

/** The page allows nothing but its own scripts, styles and API: no CDN, no inline script, no framing. */
const PAGE_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "form-action 'none'", "frame-ancestors 'none'", "base-uri 'none'",
].join('; ');

const ASSET_TYPES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'size.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
  'index.html': 'text/html; charset=utf-8',
};

/** The page's files, read once: they are small and ship with the code. */
function loadAssets(): Map<string, Buffer> {
  const folder = new URL('./public/', import.meta.url);
  return new Map(Object.keys(ASSET_TYPES).map((name) => [name, readFileSync(new URL(name, folder))]));
}

export function createUiServer(ctx: UiContext, token: string, port: () => number): Server {
  const assets = loadAssets();
  const page = assets.get('index.html')!.toString('utf8').replace('{{SESSION_TOKEN}}', token);

  const serveAsset = (res: ServerResponse, name: string, body: Buffer | string) => {
    res.writeHead(200, { ...BASE_HEADERS, 'Content-Type': ASSET_TYPES[name]!, 'Content-Security-Policy': PAGE_CSP, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const host = checkHost(req, port());
    const url = new URL(req.url ?? '/', `http://${host}`);
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const matching = ROUTES.filter((route) => route.pattern.test(url.pathname));
    if (matching.length === 0) throw new UiError(404, 'NOT_FOUND', `no such page or endpoint: ${url.pathname}`);
    const route = matching.find((r) => r.method === method);
    if (!route) {
      res.setHeader('Allow', [...new Set(matching.map((r) => r.method))].join(', '));
      throw new UiError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}`);
    }
    guard(route, req, url, host, token);
    const params = (route.pattern.exec(url.pathname) ?? []).slice(1).map(decode);
    if (route.handler === 'page') return serveAsset(res, 'index.html', page);
    if (route.handler === 'asset') return serveAsset(res, params[0]!, assets.get(params[0]!)!);
    if (route.handler === 'events') {
      const first: Array<[string, unknown]> = [['status', statusView(ctx.peer, ctx.downloadDir)]];
      if (!ctx.hub.attach(res, first)) throw new UiError(503, 'BUSY', 'too many pages are listening to this peer; close one');
      return;
    }
    const reply = await route.handler(ctx, { req, res, url, params });
    if (reply) sendJson(res, reply.status ?? 200, reply.body);
  };

  return createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!(error instanceof UiError)) ctx.logger.warn('ui.request.failed', { method: req.method, path: req.url?.split('?')[0], error }); // the query may hold the token
      // A refused body is not read: close the connection rather than wait for the rest of it.
      if (error instanceof UiError && (error.status === 413 || error.status === 415)) res.setHeader('Connection', 'close');
      sendError(res, error);
    });
  });
}

function guard(route: Route, req: IncomingMessage, url: URL, host: string, token: string): void {
  if (route.access === 'page') return;
  checkToken(req, url, token, route.access === 'stream');
  if (route.access === 'write') checkSameOrigin(req, host);
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new UiError(400, 'BAD_REQUEST', `the path part ${JSON.stringify(part)} is not valid percent-encoding`);
  }
}
