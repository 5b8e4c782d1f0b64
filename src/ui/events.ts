// Server-sent events: the page's live feed (transfers, share changes, registration state, status).
// One hub per web UI; every open page is a client. Messages are small JSON objects.
import type { ServerResponse } from 'node:http';
import { BASE_HEADERS } from './http.js';

/** A comment line this often keeps proxies and idle timers from closing the stream. */
export const SSE_HEARTBEAT_MS = 15_000;

/** At most this many pages listen at once; the next one is refused (each holds a socket). */
export const MAX_SSE_CLIENTS = 32;

export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor() {
    this.heartbeat = setInterval(() => {
      for (const client of this.clients) client.write(': keep-alive\n\n');
    }, SSE_HEARTBEAT_MS).unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Turns a response into an event stream; `first` events are sent to it alone, right away. */
  attach(res: ServerResponse, first: Array<[string, unknown]> = []): boolean {
    if (this.clients.size >= MAX_SSE_CLIENTS) return false;
    res.writeHead(200, { ...BASE_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    for (const [type, data] of first) res.write(frame(type, data));
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
    return true;
  }

  broadcast(type: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const text = frame(type, data);
    for (const client of this.clients) client.write(text);
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const client of this.clients) client.end();
    this.clients.clear();
  }
}

/** JSON.stringify never emits a raw newline, so one `data:` line always holds the whole object. */
const frame = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
