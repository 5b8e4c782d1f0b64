// Test plumbing for the web UI: a testnet whose peers each serve their page, a raw HTTP client
// that controls every header (Host, Origin, token), and a poll-until helper.
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { connect, createServer } from 'node:net';
import { Transform } from 'node:stream';
import { IndexClient } from '../../src/client/index.js';
import type { FileEntry } from '../../src/generated/types.js';
import type { TestContext } from 'node:test';
import { startTestnet, type TestPeer, type TestPeerSpec, type Testnet } from '../helpers/testnet.js';
import { startWebUi, type WebUi, type WebUiOptions } from '../../src/ui/index.js';

export interface UiPeer extends TestPeer {
  ui: WebUi;
}

/** A testnet of real peers, each with its web UI on 127.0.0.1 port 0 downloading into its own folder. */
export async function startUiNet(
  t: TestContext,
  specs: TestPeerSpec[],
  uiOptions: Partial<WebUiOptions> = {},
): Promise<{ net: Testnet; peers: UiPeer[] }> {
  // The UI's tests are not about the peer's database: an in-memory one each keeps them off SQLite's
  // file locks, which a loaded machine running every test file at once can trip (SQLITE_BUSY).
  const withMemoryDb = specs.map((spec) => ({ ...spec, options: { database: `memory://ui-test-${randomUUID()}`, ...spec.options } }));
  const net = await startTestnet(t, { peers: withMemoryDb });
  const peers: UiPeer[] = [];
  for (const peer of net.peers) {
    const ui = await startWebUi(peer.peer, { downloadDir: peer.downloads, ...uiOptions });
    t.after(() => ui.close());
    peers.push({ ...peer, ui });
  }
  return { net, peers };
}

/**
 * A peer named `lonely` whose index server never answers (a UDP socket that reads nothing), with its
 * web page downloading into `downloadDir`: what the page shows when the server is down.
 */
export async function webUiWithSilentServer(t: TestContext, net: Testnet, downloadDir: string): Promise<WebUi> {
  const silent = createSocket('udp4');
  silent.bind(0, '127.0.0.1');
  await once(silent, 'listening');
  t.after(() => silent.close());
  const lonely = await net.openPeer({ name: 'lonely', server: { host: '127.0.0.1', port: silent.address().port } });
  const ui = await startWebUi(lonely, { downloadDir });
  t.after(() => ui.close());
  return ui;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed body when it is JSON. */
  json: any;
}

export interface CallOptions {
  body?: unknown;
  /** Bytes sent as they are (with the content type in `headers`). */
  raw?: string | Uint8Array;
  /** Default: the session token, JSON content type for `body`, Origin and Host of the page. */
  headers?: Record<string, string | undefined>;
  /** Leave the session token out. */
  noToken?: boolean;
}

/** One HTTP request to a peer's page, with every header under the test's control. */
export function call(ui: WebUi, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const host = `127.0.0.1:${ui.address.port}`;
  const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const headers: Record<string, string> = {
    host,
    ...(options.noToken ? {} : { 'x-p2fs-token': ui.token }),
    ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...(method !== 'GET' ? { origin: `http://${host}` } : {}),
  };
  for (const [key, value] of Object.entries(options.headers ?? {})) {
    if (value === undefined) delete headers[key.toLowerCase()];
    else headers[key.toLowerCase()] = value;
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: ui.address.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Polls `check` until it returns a truthy value (returned) or `timeoutMs` passes (throws its last error). */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 5_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A holder that sends slowly: a TCP relay to `target` (a real peer's file server) that passes at
 * most `bytesPerSecond` towards the downloader, registered with the index server under `name` as
 * sharing `files` (published with their size and hash), so a download from it can be watched mid-way.
 */
export async function startSlowHolder(
  t: TestContext,
  options: { server: { host: string; port: number }; name: string; target: { host: string; port: number }; files: FileEntry[]; bytesPerSecond: number },
): Promise<{ close(): Promise<void> }> {
  const open = new Set<import('node:net').Socket>();
  const relay = createServer((inbound) => {
    open.add(inbound);
    inbound.on('close', () => open.delete(inbound));
    const outbound = connect(options.target.port, options.target.host);
    inbound.pipe(outbound);
    const throttle = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        const slices: Buffer[] = [];
        for (let i = 0; i < chunk.length; i += 16 * 1024) slices.push(chunk.subarray(i, i + 16 * 1024));
        const next = () => {
          const slice = slices.shift();
          if (!slice) return done();
          this.push(slice);
          setTimeout(next, (slice.length / options.bytesPerSecond) * 1000);
        };
        next();
      },
    });
    outbound.pipe(throttle).pipe(inbound);
    // The holder's end flows through the throttle and ends the downloader's side once all is sent.
    const end = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', end).on('close', () => outbound.destroy());
    outbound.on('error', end);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const client = await IndexClient.open({ server: options.server });
  await client.register({ name: options.name, ip: '127.0.0.1', tcpPort: (relay.address() as { port: number }).port });
  await client.publish(options.files);
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= (async () => {
    await client.deregister().catch(() => {});
    await client.close();
    for (const socket of open) socket.destroy();
    await new Promise((resolve) => relay.close(resolve));
  })());
  t.after(close);
  return { close };
}
