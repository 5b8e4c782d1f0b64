// Addresses as the registry compares them. A datagram's source and a registered contact must compare
// equal whatever way the address was written, so both go through canonicalIp first.
import { isIPv6 } from 'node:net';

/** Where a datagram came from, or where a peer's UDP side is registered. */
export interface UdpContact {
  readonly ip: string;
  readonly port: number;
}

const IPV4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;
const IPV4_MAPPED_HEX = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/**
 * One spelling per address: IPv6 in RFC 5952 form (lower case, longest zero run compressed), and
 * IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what a dual-stack socket reports for IPv4 clients) as plain IPv4.
 */
export function canonicalIp(ip: string): string {
  const mapped = IPV4_MAPPED.exec(ip);
  if (mapped) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  // The WHATWG URL parser serialises IPv6 hosts in RFC 5952 form, the form the kernel reports.
  const host = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const hex = IPV4_MAPPED_HEX.exec(host);
  if (!hex) return host;
  const [high, low] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** 0.0.0.0 and :: name no host: nobody could reach a peer registered there. */
export function isUnspecified(canonical: string): boolean {
  return canonical === '0.0.0.0' || canonical === '::';
}

export const contactKey = (ip: string, port: number): string => `${ip}|${port}`;

/** `192.0.2.7:5001`, `[2001:db8::7]:5001` — for logs. */
export const showContact = (c: UdpContact): string => (c.ip.includes(':') ? `[${c.ip}]:${c.port}` : `${c.ip}:${c.port}`);
