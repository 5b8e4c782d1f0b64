// Typed messages back to bytes. Replies are built by our own code against the generated types; tests
// validate every encoded message against the schemas. The index server encodes its pages itself, from
// the kept JSON of their entries (src/server/pages/encode.ts): this edge knows no reply's key order.
import type { TcpFrame, TcpRequest, UdpReply, UdpRequest } from '../generated/catalogue.js';

export const encodeDatagram = (message: UdpRequest | UdpReply): Buffer => Buffer.from(JSON.stringify(message));

export const encodeLine = (message: TcpRequest | TcpFrame): string => `${JSON.stringify(message)}\n`;
