// The operator's window on a running process, on an address of its own (never the UDP port nor the
// peer's web page): GET /metrics answers Prometheus text from a prom-client registry, GET /healthz
// answers 200 when what the process depends on answers and 503 when it does not, with a JSON line
// saying why. Loaded only with --metrics: prom-client alone takes longer to load than a whole
// `p2fs --version`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIPv6 } from 'node:net';
import type { Registry } from 'prom-client';

/** What /healthz reports: `ok` decides the status (200 or 503); the rest is said in the body. */
export interface Health {
  ok: boolean;
  [detail: string]: unknown;
}

export interface MetricsEndpointOptions {
  host: string;
  port: number;
  registry: Registry;
  health: () => Promise<Health>;
}

export interface MetricsEndpoint {
  /** `http://127.0.0.1:9400/metrics` */
  readonly url: string;
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

/** Binds host:port (0: a free port); rejects with the listen error (EADDRINUSE…) as it is. */
export async function serveMetrics(options: MetricsEndpointOptions): Promise<MetricsEndpoint> {
  const routes: Record<string, (res: ServerResponse) => Promise<void>> = {
    '/metrics': async (res) => {
      const text = await options.registry.metrics();
      res.writeHead(200, { 'content-type': options.registry.contentType }).end(text);
    },
    '/healthz': async (res) => {
      const health = await options.health().catch((error: unknown) => ({ ok: false, error: (error as Error).message }));
      res.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(health)}\n`);
    },
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (!route) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    route(res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`${(error as Error).message}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  const shown = isIPv6(options.host) ? `[${options.host}]` : options.host;
  return {
    url: `http://${shown}:${port}/metrics`,
    address: { host: options.host, port },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
