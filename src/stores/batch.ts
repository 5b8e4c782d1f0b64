// The writes of one commit group, folded so that a store can apply them in a fixed order (clear, then
// deletes, then puts) and still end in the state that applying the calls one by one would give:
// a later write to a key replaces an earlier one, and a clear forgets everything before it.

export type Mutation =
  | { op: 'put'; key: string; record: string }
  | { op: 'delete'; key: string }
  | { op: 'clear' };

export interface Batch {
  /** Remove every key of the namespace before applying the deletes and puts. */
  clear: boolean;
  /** Keys to remove; never also in `puts`, and empty when `clear` is set (the clear removes them). */
  deletes: Set<string>;
  /** Key → encoded record. */
  puts: Map<string, string>;
}

export function emptyBatch(): Batch {
  return { clear: false, deletes: new Set(), puts: new Map() };
}

export function addToBatch(batch: Batch, mutation: Mutation): void {
  switch (mutation.op) {
    case 'put':
      batch.deletes.delete(mutation.key);
      batch.puts.set(mutation.key, mutation.record);
      return;
    case 'delete':
      batch.puts.delete(mutation.key);
      if (!batch.clear) batch.deletes.add(mutation.key);
      return;
    case 'clear':
      batch.clear = true;
      batch.deletes.clear();
      batch.puts.clear();
      return;
  }
}
