// memory://: an in-process map for tests. Records are kept encoded, as the durable stores keep them,
// so a value mutated after set() is not changed in the map, and a value that cannot be stored fails
// here as it would in production. memory://name maps outlive close(), for restart tests in-process.
import type { Backend } from './backend.js';
import type { Batch } from './batch.js';
import { decodeRecord } from './record.js';
import { inUse } from './sole-writer-lock.js';

type Space = Map<string, string>;

const named = new Map<string, Map<string, Space>>();
/** Named namespaces opened by a sole writer and not closed yet (see sole-writer-lock.ts). */
const claimed = new Set<string>();

/** `exclusive`: refuse while another sole writer has this name and namespace open. */
export function openMemoryBackend(name: string | undefined, namespace: string, exclusive = false): Backend {
  if (name === undefined) return new MemoryBackend(new Map());
  const claim = exclusive ? `${name}\n${namespace}` : undefined;
  if (claim !== undefined) {
    if (claimed.has(claim)) throw inUse(`memory://${name}`, `in this process`);
    claimed.add(claim);
  }
  return new MemoryBackend(sharedSpace(name, namespace), () => claim !== undefined && claimed.delete(claim));
}

function sharedSpace(name: string, namespace: string): Space {
  const spaces = named.get(name) ?? new Map<string, Space>();
  named.set(name, spaces);
  const space = spaces.get(namespace) ?? new Map<string, string>();
  spaces.set(namespace, space);
  return space;
}

class MemoryBackend implements Backend {
  readonly #space: Space;
  readonly #release: () => void;

  constructor(space: Space, release: () => void = () => {}) {
    this.#space = space;
    this.#release = release;
  }

  async get(key: string): Promise<unknown> {
    const record = this.#space.get(key);
    return record === undefined ? undefined : decodeRecord(record);
  }

  async entries(): Promise<Array<[string, unknown]>> {
    return Array.from(this.#space, ([key, record]) => [key, decodeRecord(record)]);
  }

  async commit(batch: Batch): Promise<void> {
    if (batch.clear) this.#space.clear();
    for (const key of batch.deletes) this.#space.delete(key);
    for (const [key, record] of batch.puts) this.#space.set(key, record);
  }

  async close(): Promise<void> {
    this.#release();
  }
}
