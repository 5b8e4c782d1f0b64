// memory://: an in-process map for tests. Records are kept encoded, as the durable stores keep them,
// so a value mutated after set() is not changed in the map, and a value that cannot be stored fails
// here as it would in production. memory://name maps outlive close(), for restart tests in-process.
import type { Backend } from './backend.js';
import type { Batch } from './batch.js';
import { decodeRecord } from './record.js';

type Space = Map<string, string>;

const named = new Map<string, Map<string, Space>>();

export function openMemoryBackend(name: string | undefined, namespace: string): Backend {
  return new MemoryBackend(name === undefined ? new Map() : sharedSpace(name, namespace));
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

  constructor(space: Space) {
    this.#space = space;
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

  async close(): Promise<void> {}
}
