// Reads asyncapi.yaml twice on purpose: @asyncapi/parser is the referee that validates the document,
// and the raw YAML keeps the `$ref`s to schemas/ that the parser dereferences away.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Parser, fromFile } from '@asyncapi/parser';
import YAML from 'yaml';

export type Transport = 'udp' | 'tcp';

export interface MessageSpec {
  /** Component key in asyncapi.yaml, also the TypeScript type name (e.g. RegisterRequest). */
  key: string;
  /** The wire `type`, e.g. REGISTER. */
  type: string;
  title: string;
  transport: Transport;
  direction: 'request' | 'reply';
  /** Path of the payload schema relative to the project root, or null for the catch-all UnknownRequest. */
  schemaFile: string | null;
  examples: Array<{ summary?: string; payload: unknown }>;
}

export interface OperationSpec {
  id: string;
  /**
   * `receive`: a request the channel's server answers. `send`: a message the channel's server sends
   * unsolicited (a push, e.g. CONNECT-BACK); it travels the reply direction and is answered by nothing.
   */
  action: 'receive' | 'send';
  summary: string;
  transport: Transport;
  request: string;
  replies: string[];
}

export interface ProtocolSpec {
  title: string;
  version: string;
  description: string;
  messages: MessageSpec[];
  operations: OperationSpec[];
  transports: Record<Transport, { description: string; details: Record<string, unknown> }>;
}

const SEVERITY_ERROR = 0;

export async function readSpec(specPath: string): Promise<ProtocolSpec> {
  const parsed = await fromFile(new Parser(), specPath).parse();
  const errors = parsed.diagnostics.filter((d) => d.severity === SEVERITY_ERROR);
  if (errors.length > 0 || !parsed.document) {
    const lines = errors.map((d) => `  ${d.path.join('.')}: ${d.message}`);
    throw new Error(`${specPath} is not a valid AsyncAPI document:\n${lines.join('\n')}`);
  }
  const raw = YAML.parse(await readFile(specPath, 'utf8'));
  const specDir = path.dirname(specPath);

  const transportOfChannel = (channelId: string): Transport => {
    const serverRef: string = raw.channels[channelId].servers[0].$ref;
    return raw.servers[serverRef.split('/').pop()!].protocol;
  };
  const operations: OperationSpec[] = parsed.document.operations().all().map((op) => {
    const channelId = op.channels().all()[0]!.id();
    const reply = op.reply();
    return {
      id: op.id() ?? channelId,
      action: op.action() === 'send' ? 'send' : 'receive',
      summary: op.summary() ?? '',
      transport: transportOfChannel(channelId),
      request: op.messages().all()[0]!.id(),
      replies: reply ? reply.messages().all().map((m) => m.id()) : [],
    };
  });
  const requestKeys = new Set(operations.filter((op) => op.action === 'receive').map((op) => op.request));
  const transportOfMessage = new Map<string, Transport>();
  for (const op of operations) for (const key of [op.request, ...op.replies]) transportOfMessage.set(key, op.transport);

  const messages: MessageSpec[] = Object.entries<any>(raw.components.messages).map(([key, m]) => {
    const ref: string | undefined = m.payload?.$ref;
    const transport = transportOfMessage.get(key);
    if (!transport) throw new Error(`asyncapi.yaml: message ${key} is used by no operation`);
    return {
      key,
      type: m.name,
      title: m.title ?? key,
      transport,
      direction: requestKeys.has(key) ? 'request' : 'reply',
      schemaFile: ref ? path.relative('.', path.join(specDir, ref)) : null,
      examples: m.examples ?? [],
    };
  });
  const transports = Object.fromEntries(Object.values<any>(raw.servers).map((s) => [
    s.protocol, { description: s.description, details: s['x-p2fs-transport'] ?? {} },
  ])) as ProtocolSpec['transports'];
  return { title: raw.info.title, version: raw.info.version, description: raw.info.description, messages, operations, transports };
}
