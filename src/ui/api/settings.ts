// Settings: UPDATE-CONTACT, DE-REGISTER, and REGISTER again; each reply carries the server's answer.
import { isIP } from 'node:net';
import { fromIndexServer } from '../answer-deadline.js';
import type { Handler } from '../context.js';
import { badRequest } from '../errors.js';
import { readJson } from '../http.js';

function port(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 1 || number > 65535) {
    throw badRequest(field, `${field} must be a port number from 1 to 65535`);
  }
  return number;
}

/** POST /api/contact {ip?, tcpPort?, udpPort?}: fields left out keep their value. */
export const updateContact: Handler = async ({ peer }, { req }) => {
  const body = await readJson(req);
  const changes: { ip?: string; tcpPort?: number; udpPort?: number } = {};
  if (body.ip !== undefined && body.ip !== null && body.ip !== '') {
    if (typeof body.ip !== 'string' || !isIP(body.ip)) throw badRequest('ip', 'ip must be an IPv4 or IPv6 address literal, like 192.168.1.20');
    changes.ip = body.ip;
  }
  const tcpPort = port(body.tcpPort, 'tcpPort');
  const udpPort = port(body.udpPort, 'udpPort');
  if (tcpPort !== undefined) changes.tcpPort = tcpPort;
  if (udpPort !== undefined) changes.udpPort = udpPort;
  const contact = await fromIndexServer(peer, peer.updateContact(changes));
  return { body: { answer: 'UPDATE-CONFIRMED', contact } };
};

/** POST /api/deregister {}: the index forgets this peer and its files. */
export const deregister: Handler = async ({ peer }, { req }) => {
  await readJson(req);
  await fromIndexServer(peer, peer.deregister());
  return { body: { answer: 'DE-REGISTERED', registration: peer.registration } };
};

/** POST /api/register {}: REGISTER again (after a de-register), then the share is published. */
export const register: Handler = async ({ peer }, { req }) => {
  await readJson(req);
  await fromIndexServer(peer, peer.register());
  return { body: { answer: 'REGISTERED', registration: peer.registration, contact: peer.contact } };
};
