// The piece tree of each file version a ranged request asks for: the catalog's scan when it still
// describes the file, else one pass over the file, shared by concurrent requests and remembered.
import { PIECE_FACTS_CACHE_ENTRIES } from '../limits.js';
import { scanHandle, type FileFacts } from '../pieces/scan-file.js';
import type { OpenedFile } from './open-shared-file.js';

export class PieceFactsCache {
  private readonly known = new Map<string, Promise<FileFacts>>();

  of(opened: OpenedFile): Promise<FileFacts> {
    const hint = opened.entry.facts;
    if (hint && hint.size === opened.size) return Promise.resolve(hint);
    let facts = this.known.get(opened.version);
    if (!facts) {
      facts = scanHandle(opened.handle);
      // A failed scan is not remembered: the next request tries again.
      facts.catch(() => this.known.delete(opened.version));
      if (this.known.size >= PIECE_FACTS_CACHE_ENTRIES) this.known.delete(this.known.keys().next().value!);
      this.known.set(opened.version, facts);
    }
    return facts;
  }
}
