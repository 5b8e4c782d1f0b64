// Word search benchmark (not a test), part of `npm run bench:server`, alone `npm run bench:words`:
// SEARCH-WORDS latency with 1,000 vs 1,000,000 published files (over UDP, one request in flight, and
// the server's own time per query in process), and the memory the word index costs per file name.
//
// The names follow what a file-sharing index holds: a rare word (a title: each in ~10 names, the
// vocabulary growing with the index, as real vocabularies do), a common one (one of 37, each in
// N/37 names) and a unique number, `w1k3 live 4242.mp3`. The two-word query pairs a rare word with a
// common one. Every query string is different (the same words in other letter cases), so no answer
// comes from the replies the server keeps for repeated questions (src/server/replies/).
import { MAX_DATAGRAM_BYTES } from '../src/protocol/index.js';
import type { Registry, RegistryStore, StoredPeer } from '../src/registry/index.js';
import { WordIndex } from '../src/registry/words/word-index.js';
import { encodePage } from '../src/server/pages/encode.js';
import { wordsPage } from '../src/server/pages/paging.js';
import { startIndexServer, type IndexServer } from '../src/server/index.js';
import { heapAfterGc } from './bench/heap.js';
import { LoadGenerator, type LoadResult } from './bench/udp-load.js';
import { median } from './bench/median.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 1);
const NO_LIMIT = { perSecond: 0, burst: 0 };
const FILES_PER_PEER = 10_000;
const NAMES_PER_RARE_WORD = 10;
const COMMON_WORDS = [
  'live', 'remix', 'holiday', 'draft', 'final', 'scan', 'photo', 'report', 'notes', 'video', 'song', 'mix', 'demo', 'copy',
  'backup', 'old', 'new', 'edit', 'cut', 'full', 'part', 'side', 'intro', 'outro', 'take', 'version', 'raw', 'clean', 'best',
  'set', 'track', 'album', 'disc', 'tape', 'session', 'episode', 'chapter',
];
const EXTENSIONS = ['mp3', 'ogg', 'pdf', 'jpg', 'mkv', 'txt', 'zip'];

const rareWord = (i: number, files: number) => `w${(i % (files / NAMES_PER_RARE_WORD)).toString(36)}`;
const commonWord = (i: number) => COMMON_WORDS[i % COMMON_WORDS.length]!;
const nameOf = (i: number, files: number) => `${rareWord(i, files)} ${commonWord(i)} ${i}.${EXTENSIONS[i % EXTENSIONS.length]}`;
const tokenOf = (name: string): string => name.padEnd(32, '0').replace(/[^0-9a-f]/g, 'a');
const FIRST_PEER = 'peer-000000';

/** A store handing the registry `files` generated names, 10,000 per peer, and keeping nothing. */
function namesStore(files: number): RegistryStore {
  return {
    description: `generated-words://${files}`,
    async *entries() {
      for (let p = 0; p * FILES_PER_PEER < files; p++) {
        const name = `peer-${String(p).padStart(6, '0')}`;
        const count = Math.min(FILES_PER_PEER, files - p * FILES_PER_PEER);
        const entries = Array.from({ length: count }, (_, f) => ({ name: nameOf(p * FILES_PER_PEER + f, files), size: f }));
        const record: StoredPeer = { name, ip: '127.0.0.1', udpPort: 1 + p, tcpPort: 6000, token: tokenOf(name), files: entries, registeredAt: 0 };
        yield [name, JSON.parse(JSON.stringify(record)) as StoredPeer] as const; // flat strings, as a store gives them
      }
    },
    set: async () => {},
    delete: async () => {},
  };
}

/** Two-word queries (rare + common word) that match, each string different: letter cases vary. */
function queries(files: number, count: number): string[] {
  return Array.from({ length: count }, (_, q) => {
    const i = (q * 7919) % files;
    const text = `${rareWord(i, files)} ${commonWord(i)}`;
    const cases = Math.floor((q * 7919) / files);
    return [...text].map((c, k) => ((cases >> k) & 1 ? c.toUpperCase() : c)).join('');
  });
}


/** The server's own time per query, µs: match, page, encode, as the handler does, over distinct queries. */
function inProcessMicros(registry: Registry, files: number): number {
  const asked = queries(files, 20_000);
  for (const q of asked.slice(0, 2000)) encodePage(wordsPage(registry, registry.matchWords(q) as never, 1, undefined, MAX_DATAGRAM_BYTES));
  const times: number[] = [];
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (const q of asked) {
      const matches = registry.matchWords(q);
      if ('refused' in matches) throw new Error(`${q}: ${matches.reason}`);
      encodePage(wordsPage(registry, matches, 1, undefined, MAX_DATAGRAM_BYTES));
    }
    times.push(Number(process.hrtime.bigint() - start) / 1000 / asked.length);
  }
  return median(times);
}

/** The word index alone over a million names (the registry's other indexes excluded), bytes per name. */
function indexBytesPerName(): number {
  const names = Array.from({ length: 1_000_000 }, (_, i) => JSON.parse(JSON.stringify(nameOf(i, 1_000_000))) as string);
  const before = heapAfterGc();
  const index = new WordIndex();
  for (const name of names) index.add(name);
  return (heapAfterGc() - before) / index.size;
}
// First, on a heap nothing else has used yet; the index is garbage once it returns.
const indexBytes = indexBytesPerName();

const load = await LoadGenerator.start();
const SIZES = [1000, 1_000_000] as const;
const servers = new Map<number, IndexServer>();
let registryBytesPerFile = 0;
for (const files of SIZES) {
  const before = heapAfterGc();
  servers.set(files, await startIndexServer({ host: '127.0.0.1', port: 0, store: namesStore(files), rateLimit: NO_LIMIT }));
  if (files === 1_000_000) registryBytesPerFile = (heapAfterGc() - before) / files;
}
const udp: Record<number, LoadResult[]> = { 1000: [], 1000000: [] };
const queryLoad = (files: number) => [queries(files, 10_000).map((q) => `{"type":"SEARCH-WORDS","rq":__RQ__,"words":"${q}","token":"${tokenOf(FIRST_PEER)}"}`)];
for (let round = 0; round < ROUNDS; round++) {
  for (const files of SIZES) udp[files]!.push(await load.run(servers.get(files)!.address.port, queryLoad(files), 1, ROUND_SECONDS));
}
const micros = Object.fromEntries(SIZES.map((files) => [files, inProcessMicros(servers.get(files)!.registry as unknown as Registry, files)]));
const { names: indexedNames, words: indexedWords } = (servers.get(1_000_000)!.registry as unknown as Registry).wordStats;
for (const server of servers.values()) await server.close();
servers.clear();
await load.stop();

const cell = (files: number) => {
  const runs = udp[files]!;
  return `${median(runs.map((r) => r.p50)).toFixed(0)} µs p50, ${median(runs.map((r) => r.p99)).toFixed(0)} µs p99, server ${micros[files]!.toFixed(1)} µs/query`;
};
console.log('SEARCH-WORDS, two words (one in ~10 names, one in N/37), every query string different, 1 in flight over UDP:');
console.log(`  1,000 files:     ${cell(1000)}`);
console.log(`  1,000,000 files: ${cell(1_000_000)}`);
console.log(`word index: ${indexedNames.toLocaleString('en')} names, ${indexedWords.toLocaleString('en')} distinct words; ${Math.round(indexBytes)} bytes per file name for the index alone`);
console.log(`registry memory per published file with its word index (1,000,000 files): ${Math.round(registryBytesPerFile)} bytes`);
