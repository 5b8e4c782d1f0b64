// The IP a peer advertises: the address the OS would use to reach the index server. Connecting a
// UDP socket sends nothing; it only asks the routing table which local address would be used, so
// the answer is loopback for a local server and the LAN (or VPN) address for a remote one.
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { PeerError } from './errors.js';

export async function addressTowards(host: string, port: number): Promise<string> {
  let socket: dgram.Socket | undefined;
  try {
    const target = isIP(host) ? host : (await lookup(host)).address;
    const connected = dgram.createSocket(isIP(target) === 6 ? 'udp6' : 'udp4');
    socket = connected;
    await new Promise<void>((resolve, reject) => {
      connected.once('error', reject);
      connected.connect(port, target, () => resolve());
    });
    return connected.address().address;
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new PeerError('BAD_ADDRESS', `cannot tell which local address reaches ${host}:${port} (${why}); give --host`);
  } finally {
    socket?.close();
  }
}
