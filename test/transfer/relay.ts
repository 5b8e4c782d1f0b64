// A relay in front of a real holder, for tests and benchmarks: it forwards the downloader's bytes
// as they are, and the holder's bytes throttled to an uplink rate, with one character of each
// frame's text flipped (a corrupting holder), or only up to a point after which it goes silent
// without closing (a stalling holder).
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface RelayOptions {
  /** Forward the holder's bytes at this rate (bytes per second) at most. */
  bytesPerSecond?: number;
  /** Flip one character of the text of every frame that carries text. */
  corrupt?: boolean;
  /** Forward this many of the holder's bytes per connection, then nothing more (the connection stays open). */
  stallAfterBytes?: number;
}

export interface Relay {
  port: number;
  /** Holder bytes forwarded so far, over every connection. */
  forwarded: number;
  close(): Promise<void>;
}

const TEXT_KEY = Buffer.from('"text":"');

export async function startRelay(targetPort: number, options: RelayOptions = {}): Promise<Relay> {
  const sockets = new Set<Socket>();
  const relay: Relay = { port: 0, forwarded: 0, close: async () => {} };
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort, noDelay: true });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.on('data', (data) => upstream.write(data));
    client.on('close', () => upstream.destroy());
    // The holder hanging up ends the downloader's side once what is held back has been forwarded.
    let forwarding = Promise.resolve();
    upstream.on('close', () => forwarding.then(() => client.end()));
    const startedAt = Date.now();
    let sent = 0;
    upstream.on('data', (data: Buffer) => {
      let out = options.corrupt ? flipText(data) : data;
      if (options.stallAfterBytes !== undefined) {
        if (sent >= options.stallAfterBytes) return;
        out = out.subarray(0, options.stallAfterBytes - sent);
      }
      sent += out.length;
      relay.forwarded += out.length;
      const due = options.bytesPerSecond ? startedAt + (sent / options.bytesPerSecond) * 1000 - Date.now() : 0;
      if (due <= 0) {
        client.write(out);
        return;
      }
      upstream.pause();
      forwarding = new Promise((resolve) => setTimeout(() => {
        client.write(out);
        upstream.resume();
        resolve();
      }, due));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  relay.port = (server.address() as AddressInfo).port;
  relay.close = () => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return relay;
}

/** A copy with the 10th character of each frame's text changed to another of the same kind. */
function flipText(data: Buffer): Buffer {
  const out = Buffer.from(data);
  for (let at = out.indexOf(TEXT_KEY); at !== -1; at = out.indexOf(TEXT_KEY, at + 1)) {
    const i = at + TEXT_KEY.length + 10;
    if (i >= out.length) break;
    const byte = out[i]!;
    if (out[i - 1] === 0x5c) continue; // an escape's letter: changing it could break the JSON
    // Letters and digits stay letters and digits: the frame still parses, only its data is wrong.
    if ((byte >= 0x41 && byte <= 0x59) || (byte >= 0x61 && byte <= 0x79) || (byte >= 0x30 && byte <= 0x38)) out[i] = byte + 1;
  }
  return out;
}
