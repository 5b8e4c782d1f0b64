// One small function per request type, over the registry, in two tables: reads answer from memory on
// the spot, mutations once the store has the change. Their types make a request type added to the
// spec without a handler a compile error. Handlers return their success reply or a refusal; a
// RegistryError thrown by the registry becomes the type's refusal in answerRead/answerMutation.
import { UDP_REFUSAL, type UdpReply, type UdpRepliesTo, type UdpRequest, type UdpRequestByType, type UdpRequestType } from '../generated/catalogue.js';
import { RegistryError, type Credentials, type Registry, type UdpContact } from '../registry/index.js';
import { CURSOR_REASON, decodeAllCursor, decodeInfotCursor, decodeSearchCursor } from './cursor.js';
import { infotPage, retrievePage, searchPage } from './paging.js';

export interface RequestContext {
  registry: Registry;
  /** The datagram's source, IPv4-mapped addresses already turned into plain IPv4. */
  from: UdpContact;
  /** No reply may be larger than this many bytes. */
  maxDatagram: number;
}

/** Requests answered from memory: no promise per request (one cost a tenth of a SEARCH-FILE). */
export type ReadType = 'RETRIEVE-ALL' | 'RETRIEVE-INFOT' | 'SEARCH-FILE';
export type MutationType = Exclude<UdpRequestType, ReadType>;
export type ReadRequest = UdpRequestByType[ReadType];
export type MutationRequest = UdpRequestByType[MutationType];

type ReadHandler<K extends ReadType> = (request: UdpRequestByType[K], ctx: RequestContext) => UdpRepliesTo[K];
type MutationHandler<K extends MutationType> = (request: UdpRequestByType[K], ctx: RequestContext) => Promise<UdpRepliesTo[K]>;

const credentials = (request: { token?: string }, ctx: RequestContext): Credentials => ({ token: request.token, from: ctx.from });
const contactOf = ({ ip, udpPort, tcpPort }: { ip: string; udpPort: number; tcpPort: number }) => ({ ip, udpPort, tcpPort });

async function register(request: UdpRequestByType['REGISTER'], ctx: RequestContext): Promise<UdpRepliesTo['REGISTER']> {
  const { token } = await ctx.registry.register(request.name, contactOf(request), credentials(request, ctx));
  return { type: 'REGISTERED', rq: request.rq, token };
}

async function deregister(request: UdpRequestByType['DE-REGISTER'], ctx: RequestContext): Promise<UdpRepliesTo['DE-REGISTER']> {
  await ctx.registry.deregister(request.name, credentials(request, ctx));
  return { type: 'DE-REGISTERED', rq: request.rq };
}

async function publish(request: UdpRequestByType['PUBLISH'], ctx: RequestContext): Promise<UdpRepliesTo['PUBLISH']> {
  await ctx.registry.publish(request.name, request.files, credentials(request, ctx));
  return { type: 'PUBLISHED', rq: request.rq };
}

async function remove(request: UdpRequestByType['REMOVE'], ctx: RequestContext): Promise<UdpRepliesTo['REMOVE']> {
  await ctx.registry.remove(request.name, request.files, credentials(request, ctx));
  return { type: 'REMOVED', rq: request.rq };
}

async function updateContact(request: UdpRequestByType['UPDATE-CONTACT'], ctx: RequestContext): Promise<UdpRepliesTo['UPDATE-CONTACT']> {
  const now = await ctx.registry.updateContact(request.name, contactOf(request), credentials(request, ctx));
  return { type: 'UPDATE-CONFIRMED', rq: request.rq, name: request.name, ...now };
}

function retrieveAll(request: UdpRequestByType['RETRIEVE-ALL'], ctx: RequestContext): UdpRepliesTo['RETRIEVE-ALL'] {
  const from = request.cursor === undefined ? undefined : decodeAllCursor(request.cursor);
  if (request.cursor !== undefined && !from) return { type: 'RETRIEVE-ERROR', rq: request.rq, reason: CURSOR_REASON };
  return retrievePage(ctx.registry, request.rq, from, ctx.maxDatagram);
}

function retrieveInfot(request: UdpRequestByType['RETRIEVE-INFOT'], ctx: RequestContext): UdpRepliesTo['RETRIEVE-INFOT'] {
  const from = request.cursor === undefined ? undefined : decodeInfotCursor(request.cursor);
  if (request.cursor !== undefined && !from) return { type: 'RETRIEVE-ERROR', rq: request.rq, reason: CURSOR_REASON };
  const peer = ctx.registry.peer(request.name);
  if (!peer) return { type: 'RETRIEVE-ERROR', rq: request.rq, reason: `peer ${JSON.stringify(request.name)} is not registered` };
  return infotPage(peer, request.rq, from, ctx.maxDatagram);
}

function searchFile(request: UdpRequestByType['SEARCH-FILE'], ctx: RequestContext): UdpRepliesTo['SEARCH-FILE'] {
  const from = request.cursor === undefined ? undefined : decodeSearchCursor(request.cursor);
  if (request.cursor !== undefined && !from) return { type: 'SEARCH-ERROR', rq: request.rq, reason: CURSOR_REASON };
  return searchPage(ctx.registry, request.file, request.rq, from, ctx.maxDatagram);
}

export const READ_HANDLERS: { [K in ReadType]: ReadHandler<K> } = {
  'RETRIEVE-ALL': retrieveAll,
  'RETRIEVE-INFOT': retrieveInfot,
  'SEARCH-FILE': searchFile,
};

export const MUTATION_HANDLERS: { [K in MutationType]: MutationHandler<K> } = {
  'REGISTER': register,
  'DE-REGISTER': deregister,
  'PUBLISH': publish,
  'REMOVE': remove,
  'UPDATE-CONTACT': updateContact,
};

export const isRead = (request: UdpRequest): request is ReadRequest => Object.hasOwn(READ_HANDLERS, request.type);

/**
 * Reads answer registered clients only (the brief: queries from unregistered clients get their error
 * type). Returns the refusal, or undefined for a client that may read (its registrations are marked
 * as seen). Checked before the answer is looked for, which may be a page kept from before.
 */
export function refuseReader(request: ReadRequest, ctx: RequestContext): UdpReply | undefined {
  try {
    ctx.registry.requireClient(credentials(request, ctx));
    return undefined;
  } catch (error) {
    return refusalFor(request, error);
  }
}

/** The reply to a read from a client refuseReader admitted: its handler's answer, or its refusal. */
export function answerRead(request: ReadRequest, ctx: RequestContext): UdpReply {
  try {
    return (READ_HANDLERS[request.type] as ReadHandler<ReadType>)(request, ctx);
  } catch (error) {
    return refusalFor(request, error);
  }
}

/** The reply to a mutation once the store has it, or its refusal when the registry refused. */
export function answerMutation(request: MutationRequest, ctx: RequestContext): Promise<UdpReply> {
  return (MUTATION_HANDLERS[request.type] as MutationHandler<MutationType>)(request as never, ctx).catch((error: unknown) => refusalFor(request, error));
}

/** The reply to any decoded request (tests call it without a pipeline). */
export const handleRequest = (request: UdpRequest, ctx: RequestContext): UdpReply | Promise<UdpReply> =>
  isRead(request) ? (refuseReader(request, ctx) ?? answerRead(request, ctx)) : answerMutation(request as MutationRequest, ctx);

/** Anything but a refusal from the registry is a bug: it propagates (the pipeline logs it). */
function refusalFor(request: UdpRequest, error: unknown): UdpReply {
  if (!(error instanceof RegistryError)) throw error;
  return refusal(request.type, request.rq, error.reason, request);
}

/** Longest name UPDATE-DENIED echoes (its schema's maxLength). */
const ECHOED_NAME_CHARS = 64;

/** The refusal reply of a request type, with the reason a person can act on. */
export function refusal(type: UdpRequestType, rq: number, reason: string, received?: Record<string, unknown> | UdpRequest): UdpReply {
  const refusalType = UDP_REFUSAL[type];
  if (refusalType !== 'UPDATE-DENIED') return { type: refusalType, rq, reason };
  const name = (received as Record<string, unknown> | undefined)?.name;
  return { type: refusalType, rq, name: typeof name === 'string' ? [...name].slice(0, ECHOED_NAME_CHARS).join('') : null, reason };
}
