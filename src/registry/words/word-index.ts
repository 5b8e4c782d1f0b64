// The registry's word index: every published file name (once, however many peers share it) under
// each of its words, kept in step by the registry's add-holder and unshare paths, the ones every
// change goes through (this server's own, a load, and the changes a shared store's feed brings).
//
// A query costs what its rarest word's names cost, not what the registry holds: the names under that
// word are checked against the other words' sets, so a query with one rare word stays fast at a
// million names. A query whose every word is very common is refused rather than scanned.
import { wordsOf } from './fold.js';

/** Words one query may hold: each is a set lookup per candidate name. */
export const MAX_QUERY_WORDS = 8;
/** Matches a query lists at most, best first: enough to browse, bounded for the server. */
export const MAX_MATCHES = 1_000;
/**
 * A query is refused when even its rarest word is in more names than this: scanning them would hold
 * the server ~10 ms (a read answers on the event loop), and such a list is too long to be useful.
 */
export const MAX_NAMES_SCANNED = 100_000;

/**
 * The names under one word, each with its number of distinct words (the rank). A word in one name
 * only, the most common case (numbers, unusual words), is that name alone: a Map per word cost
 * ~100 bytes more per name.
 */
type Postings = string | Map<string, number>;

/** Why a query cannot be answered: its code (src/errors/codes.ts, Refusal) and a reason. */
export interface QueryRefusal {
  refused: 'NO_WORDS' | 'TOO_MANY_WORDS' | 'WORDS_TOO_COMMON';
  reason: string;
}

/** Matching names grouped by rank (their number of words), fewest words first; a tier is sorted on first use. */
export class Matches {
  private readonly sorted = new Set<number>();

  constructor(private readonly tiers: Array<{ words: number; names: string[] }>) {}

  get tierCount(): number {
    return this.tiers.length;
  }

  /** The number of words of every name in tier `i`. */
  tierWords(i: number): number {
    return this.tiers[i]!.words;
  }

  tierSize(i: number): number {
    return this.tiers[i]!.names.length;
  }

  /** The names of tier `i` in code-unit order. */
  tier(i: number): readonly string[] {
    const { names } = this.tiers[i]!;
    if (!this.sorted.has(i)) {
      names.sort(byCodeUnits);
      this.sorted.add(i);
    }
    return names;
  }

  /** Matching names in all. */
  get size(): number {
    let n = 0;
    for (const tier of this.tiers) n += tier.names.length;
    return n;
  }
}

export class WordIndex {
  private readonly postings = new Map<string, Postings>();
  private names = 0;

  /** Distinct file names indexed. */
  get size(): number {
    return this.names;
  }

  /** Distinct words indexed. */
  get wordCount(): number {
    return this.postings.size;
  }

  /** Indexes a name that no peer shared until now. */
  add(name: string): void {
    const words = wordsOf(name);
    for (const word of words) {
      const here = this.postings.get(word);
      if (here === undefined) this.postings.set(word, name);
      else if (typeof here === 'string') this.postings.set(word, new Map([[here, wordsOf(here).length], [name, words.length]]));
      else here.set(name, words.length);
    }
    this.names++;
  }

  /** Drops a name that the last peer sharing it unshared. */
  remove(name: string): void {
    for (const word of wordsOf(name)) {
      const here = this.postings.get(word);
      if (here === undefined) continue;
      if (typeof here === 'string') {
        if (here === name) this.postings.delete(word);
        continue;
      }
      here.delete(name);
      if (here.size === 1) this.postings.set(word, here.keys().next().value!);
    }
    this.names--;
  }

  /** The names holding every word of `query`, by rank, or why the query is refused. */
  match(query: string): Matches | QueryRefusal {
    const words = wordsOf(query);
    if (words.length === 0) return { refused: 'NO_WORDS', reason: `words ${JSON.stringify(query)} holds no word: give letters or digits` };
    if (words.length > MAX_QUERY_WORDS) {
      return { refused: 'TOO_MANY_WORDS', reason: `words holds ${words.length} words; search by at most ${MAX_QUERY_WORDS}` };
    }
    const lists = words.map((word) => this.postings.get(word));
    if (lists.some((list) => list === undefined)) return new Matches([]);
    const bySize = (lists as Postings[]).sort((a, b) => sizeOf(a) - sizeOf(b));
    const rarest = bySize[0]!;
    if (sizeOf(rarest) > MAX_NAMES_SCANNED) {
      return {
        refused: 'WORDS_TOO_COMMON',
        reason: `every word of ${JSON.stringify(query)} is in more than ${MAX_NAMES_SCANNED.toLocaleString('en')} file names; add a rarer word`,
      };
    }
    const others = bySize.slice(1);
    const tiers = new Map<number, string[]>();
    const consider = (name: string, rank: number) => {
      for (const other of others) if (!holds(other, name)) return;
      const tier = tiers.get(rank);
      if (tier) tier.push(name);
      else tiers.set(rank, [name]);
    };
    if (typeof rarest === 'string') consider(rarest, wordsOf(rarest).length);
    else for (const [name, rank] of rarest) consider(name, rank);
    return new Matches([...tiers].sort(([a], [b]) => a - b).map(([words, names]) => ({ words, names })));
  }
}

const sizeOf = (postings: Postings): number => (typeof postings === 'string' ? 1 : postings.size);
const holds = (postings: Postings, name: string): boolean => (typeof postings === 'string' ? postings === name : postings.has(name));
const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
