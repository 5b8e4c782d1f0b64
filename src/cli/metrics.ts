// `--metrics IP:PORT`, on the server and on `serve`: the endpoint is bound before anything is
// registered or served (a busy port fails the command first), and its address is said. prom-client
// and the metrics are loaded only here, only with the flag.
import type { Health, MetricsEndpoint } from '../metrics/http.js';
import type { Registry } from 'prom-client';
import { UsageError } from './errors.js';

export interface MetricsSource {
  registry: Registry;
  health(): Promise<Health>;
}

export async function startMetrics(
  address: { host: string; port: number },
  source: MetricsSource,
  say: (line: string, data: Record<string, unknown>) => void,
): Promise<MetricsEndpoint> {
  const { serveMetrics } = await import('../metrics/http.js');
  let endpoint: MetricsEndpoint;
  try {
    endpoint = await serveMetrics({ ...address, ...source });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = `--metrics ${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
    if (code === 'EADDRINUSE') throw new UsageError(`${where}: the port is in use; pick another (port 0: any free one)`, false);
    if (code === 'EACCES') throw new UsageError(`${where}: not permitted to listen on this port; pick one above 1023`, false);
    if (code === 'EADDRNOTAVAIL') throw new UsageError(`${where}: no interface of this machine has that address`, false);
    throw error;
  }
  say(`metrics: ${endpoint.url} (health: ${endpoint.url.replace(/metrics$/, 'healthz')})`, { event: 'metrics', url: endpoint.url });
  return endpoint;
}
