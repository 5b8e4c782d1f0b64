// CALLBACK → CONNECT-BACK: the one place the server sends a datagram nobody asked it for, so the one
// place it could become a reflector. Four rules keep it from being one:
// - the push goes only to a registered peer, at the address its own datagrams come from (observed);
// - the requester must be registered too, and is named by its CALLBACK's source IP, never by an
//   address it declares: the holder can only be made to connect to whoever asked;
// - each requester IP has its own budget (a burst of 20, then 5 a second);
// - a push is about as large as the request that caused it (the amplification factor README.md
//   states, asserted in test/server/callbacks.test.ts).
// A punch (both behind NATs) is the same push with `punch`: the holder connects from the port the
// requester connects from, and the reply tells the requester where the holder is seen.
import type { CallbackRequest, CallbackSentReply, ConnectBackPush } from '../generated/types.js';
import type { Logger } from '../log/index.js';
import { showContact, type PeerView, type Registry, type UdpContact } from '../registry/index.js';
import { Refused } from './handlers.js';
import { RateLimiter, type RateLimit } from './rate-limit.js';

/** Per requester IP: a `get` asks once per holder it cannot reach, and again only when nothing came. */
export const CALLBACK_RATE: RateLimit = { perSecond: 5, burst: 20 };

/** Hands a datagram to the server's socket. */
export type Push = (bytes: Buffer, to: UdpContact) => void;

export class CallbackRelay {
  private readonly limiter: RateLimiter;
  /** CONNECT-BACK's rq: the server's own count (nothing answers a push; logs and holders tell them apart). */
  private pushes = 0;

  constructor(
    private readonly push: Push,
    private readonly log: Logger,
    limit: RateLimit = CALLBACK_RATE,
    now?: () => number,
  ) {
    this.limiter = new RateLimiter(limit, now);
  }

  /** Pushes CONNECT-BACK to the holder; throws RegistryError NOT_REGISTERED for an unregistered requester. */
  relay(request: CallbackRequest, registry: Registry, from: UdpContact): CallbackSentReply | Refused {
    const requester = registry.client({ token: request.token, from });
    if (!this.limiter.admit(from.ip)) {
      return new Refused('CALLBACK_RATE', `too many CALLBACKs from ${from.ip}: at most ${CALLBACK_RATE.burst} at once, then ${CALLBACK_RATE.perSecond} a second; wait and ask again`);
    }
    const holder = registry.peer(request.name);
    if (!holder) return new Refused('PEER_UNKNOWN', `peer ${JSON.stringify(request.name)} is not registered`);
    if (request.punch) {
      const rewriter = [holder, requester].find(rewritesPorts);
      if (rewriter) return new Refused('PUNCH_UNLIKELY', `cannot punch through to ${holder.name}: ${rewriter.name}'s NAT rewrites source ports (UDP ${rewriter.udpPort} is seen as ${rewriter.observedUdpPort}), so neither side could aim at the other's; use a relay`);
    }
    this.pushes = (this.pushes % 0x7fffffff) + 1;
    const punch = request.punch ? { punch: true } : {};
    const push: ConnectBackPush = { type: 'CONNECT-BACK', rq: this.pushes, from: requester.name, ip: from.ip, tcpPort: request.tcpPort, nonce: request.nonce, ...punch };
    const to = { ip: holder.observedIp, port: holder.observedUdpPort };
    this.push(Buffer.from(JSON.stringify(push)), to);
    this.log.info('connect-back pushed', { from: requester.name, requester: showContact(from), holder: holder.name, to: showContact(to), tcpPort: request.tcpPort, ...punch });
    return { type: 'CALLBACK-SENT', rq: request.rq, name: holder.name, ...(request.punch ? { ip: holder.observedIp } : {}) };
  }
}

/**
 * A NAT that gives the peer's datagrams another source port than the one it registered likely does
 * the same to its TCP connections: a punch aims at the port the other side binds, and would miss.
 */
function rewritesPorts(peer: PeerView): boolean {
  return peer.behindNat && peer.observedUdpPort !== peer.udpPort;
}
