// The edge where bytes become typed, validated messages. Every function here returns a message that
// its generated validator accepted, or throws ProtocolError — never anything else, whatever the bytes.
import { isUtf8 } from 'node:buffer';
import {
  TCP_FRAME_TYPES, TCP_REQUEST_TYPES, UDP_REPLY_TYPES, UDP_REQUEST_TYPES,
  validateTcpFrame, validateTcpRequest, validateUdpReply, validateUdpRequest,
  type TcpFrame, type TcpRequest, type UdpReply, type UdpRequest,
} from '../generated/catalogue.js';
import type { Validator } from '../generated/validators.js';
import { ProtocolError } from './errors.js';
import { reasonFromSchemaError, show } from './reasons.js';
import { MAX_DATAGRAM_BYTES, MAX_LINE_BYTES, MAX_RQ } from './limits.js';

interface Direction<M> {
  /** Who sends these, for reasons: "request this server knows". */
  noun: string;
  types: readonly string[];
  validators: Record<string, Validator<M>>;
  /** Requests get their file names NFC-normalised before validation, so `é` typed two ways is one name. */
  normaliseFileNames: boolean;
  /**
   * Requests need a readable rq before anything else (BAD_RQ: the refusal must echo it). Replies leave
   * rq to their schema: ERROR and DOWNLOAD-ERROR carry `rq: null` when the request could not be read.
   */
  rqFirst: boolean;
}

const UDP_REQUESTS: Direction<UdpRequest> = { noun: 'a request this server knows', types: UDP_REQUEST_TYPES, validators: validateUdpRequest, normaliseFileNames: true, rqFirst: true };
const UDP_REPLIES: Direction<UdpReply> = { noun: 'a reply of the index server', types: UDP_REPLY_TYPES, validators: validateUdpReply, normaliseFileNames: false, rqFirst: false };
const TCP_REQUESTS: Direction<TcpRequest> = { noun: 'a request this peer knows', types: TCP_REQUEST_TYPES, validators: validateTcpRequest, normaliseFileNames: true, rqFirst: true };
const TCP_FRAMES: Direction<TcpFrame> = { noun: 'a transfer frame', types: TCP_FRAME_TYPES, validators: validateTcpFrame, normaliseFileNames: false, rqFirst: false };

export const decodeUdpRequest = (datagram: Uint8Array, maxBytes = MAX_DATAGRAM_BYTES): UdpRequest =>
  decodeMessage(datagram, maxBytes, 'datagram', UDP_REQUESTS);
export const decodeUdpReply = (datagram: Uint8Array, maxBytes = MAX_DATAGRAM_BYTES): UdpReply =>
  decodeMessage(datagram, maxBytes, 'datagram', UDP_REPLIES);
export const decodeTcpRequest = (line: Uint8Array): TcpRequest => decodeMessage(line, MAX_LINE_BYTES, 'line', TCP_REQUESTS);
export const decodeTcpFrame = (line: Uint8Array): TcpFrame => decodeMessage(line, MAX_LINE_BYTES, 'line', TCP_FRAMES);

/** Decodes one JSON value already parsed (e.g. by a fast path) against a direction's schemas. */
export const validateTcpFrameObject = (value: unknown): TcpFrame => decodeObject(value, TCP_FRAMES);

function decodeMessage<M>(bytes: Uint8Array, maxBytes: number, unit: string, direction: Direction<M>): M {
  if (bytes.byteLength > maxBytes) {
    throw new ProtocolError('TOO_LARGE', `${unit} of ${bytes.byteLength} bytes is over the ${maxBytes}-byte limit`);
  }
  if (!isUtf8(bytes)) throw new ProtocolError('NOT_UTF8', `${unit} is not valid UTF-8`);
  let value: unknown;
  try {
    value = JSON.parse(utf8Text(bytes));
  } catch {
    throw new ProtocolError('NOT_JSON', `${unit} is not JSON`);
  }
  return decodeObject(value, direction);
}

function decodeObject<M>(value: unknown, direction: Direction<M>): M {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ProtocolError('NOT_OBJECT', `expected a JSON object, got ${show(value)}`);
  }
  const received = value as Record<string, unknown>;
  const rq = readableRq(received.rq);
  const known = typeof received.type === 'string' ? direction.types.indexOf(received.type) : -1;
  if (known < 0) {
    const type = received.type;
    const reason = type === undefined
      ? 'type is required'
      : typeof type !== 'string'
        ? `type must be a string, got ${show(type)}`
        : `type ${show(type)} is not ${direction.noun}; expected one of ${direction.types.join(', ')}`;
    throw new ProtocolError('UNKNOWN_TYPE', reason, { rq, received });
  }
  // The spec's own constant in place of the parsed copy: an internalized string, so each table keyed
  // by type (validators, handlers, counters) finds it without hashing the string anew.
  const type = direction.types[known]!;
  received.type = type;
  if (rq === null && direction.rqFirst) {
    const reason = received.rq === undefined
      ? 'rq is required'
      : `rq must be an integer from 0 to ${MAX_RQ}, got ${show(received.rq)}`;
    throw new ProtocolError('BAD_RQ', reason, { messageType: type, received });
  }
  if (direction.normaliseFileNames) normaliseFileNames(received);
  const validate = direction.validators[type]!;
  if (!validate(received)) {
    const reason = reasonFromSchemaError(validate.errors![0]!, type);
    throw new ProtocolError('INVALID', reason, { messageType: type, rq, received });
  }
  return received as M;
}

/** A Buffer (what sockets hand us) decodes as is; a view costs more than the parse of a small request. */
const utf8Text = (bytes: Uint8Array): string =>
  (bytes instanceof Buffer ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('utf8');

function readableRq(rq: unknown): number | null {
  return typeof rq === 'number' && Number.isInteger(rq) && rq >= 0 && rq <= MAX_RQ ? rq : null;
}

/**
 * Every character below U+0300 is stable under NFC (none composes with what precedes it), so names
 * made of them, nearly all names, skip ICU: normalize() cost a third as much as parsing the request.
 */
const ALREADY_NFC = /^[\u0000-\u02ff]*$/;
const nfc = (name: string): string => (ALREADY_NFC.test(name) ? name : name.normalize('NFC'));

function normaliseFileNames(message: Record<string, unknown>): void {
  if (typeof message.file === 'string') message.file = nfc(message.file);
  if (!Array.isArray(message.files)) return;
  message.files = message.files.map((entry: unknown) => {
    if (typeof entry === 'string') return nfc(entry);
    if (entry !== null && typeof entry === 'object' && !Array.isArray(entry) && typeof (entry as any).name === 'string') {
      return { ...entry, name: nfc((entry as any).name) };
    }
    return entry;
  });
}
