// Typed messages back to bytes. Replies are built by our own code against the generated types,
// so encoding is plain JSON; tests validate every encoded message against the schemas.
import type { TcpFrame, TcpRequest, UdpReply, UdpRequest } from '../generated/catalogue.js';

export const encodeDatagram = (message: UdpRequest | UdpReply): Buffer => Buffer.from(JSON.stringify(message));

export const encodeLine = (message: TcpRequest | TcpFrame): string => `${JSON.stringify(message)}\n`;
