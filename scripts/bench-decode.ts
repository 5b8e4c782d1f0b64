// Micro-benchmark (not a test): the cost of turning one datagram or TCP line into a validated message
// at the protocol edge (UTF-8 check, JSON.parse, dispatch on type, NFC of file names, generated
// validator, and for refusals the ProtocolError with its reason). `npm run bench:decode [-- --runs=9 --ms=200]`
import { decodeTcpFrame, decodeUdpRequest, encodeDatagram, encodeLine, ProtocolError } from '../src/protocol/index.js';

const flag = (name: string, fallback: number) => {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? Number(arg.split('=')[1]) : fallback;
};
const RUNS = flag('runs', 9);
const MS_PER_RUN = flag('ms', 150);
const WARMUP_MS = flag('warmup', 300);

const sha = 'a591a6d40bf420404a011733cfb7b190d62c65bf0bcf1a7ffa7a02ad1da2e4e0';
const token = '9f86d081884c7d659a2feaa0c55ad015';
const register = { type: 'REGISTER', rq: 1, name: 'alice', ip: '192.0.2.10', udpPort: 5001, tcpPort: 6001, token } as const;
const publish = {
  type: 'PUBLISH', rq: 3, name: 'alice', token,
  files: Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? `notes-${i}.txt` : { name: `song-${i}.ogg`, size: 4096 * i, sha256: sha })),
} as const;
const search = { type: 'SEARCH-FILE', rq: 9, file: 'song.ogg', token } as const;
const frame = { type: 'FILE', rq: 1, file: 'notes.txt', chunk: 1, text: 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(4).slice(0, 200) } as const;

interface Case { name: string; bytes: Buffer; decode: (b: Buffer) => unknown; expect: 'ok' | ProtocolError['code'] }
const cases: Case[] = [
  { name: 'REGISTER', bytes: encodeDatagram(register), decode: (b) => decodeUdpRequest(b), expect: 'ok' },
  { name: 'PUBLISH, 10 entries', bytes: encodeDatagram(publish as never), decode: (b) => decodeUdpRequest(b), expect: 'ok' },
  { name: 'SEARCH-FILE', bytes: encodeDatagram(search), decode: (b) => decodeUdpRequest(b), expect: 'ok' },
  { name: 'REGISTER, udpPort 70000 (refused)', bytes: encodeDatagram({ ...register, udpPort: 70000 }), decode: (b) => decodeUdpRequest(b), expect: 'INVALID' },
  { name: 'garbage, not JSON (dropped)', bytes: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), decode: (b) => decodeUdpRequest(b), expect: 'NOT_JSON' },
  { name: 'FILE frame line (decodeTcpFrame)', bytes: Buffer.from(encodeLine(frame).slice(0, -1)), decode: (b) => decodeTcpFrame(b), expect: 'ok' },
  // For scale: what JSON.parse alone costs on the REGISTER datagram.
  { name: 'baseline: JSON.parse(REGISTER)', bytes: encodeDatagram(register), decode: (b) => JSON.parse(b.toString('utf8')), expect: 'ok' },
];

let sink = 0;
function once(c: Case): void {
  try {
    const m = c.decode(c.bytes) as { rq: number };
    sink += m.rq;
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    sink += error.reason.length;
  }
}

/** Runs `c` for about `ms` milliseconds in batches; returns ns per operation. */
function timed(c: Case, ms: number): number {
  const budget = BigInt(ms) * 1_000_000n;
  let ops = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 1000; i++) once(c);
    ops += 1000;
    elapsed = process.hrtime.bigint() - start;
  }
  return Number(elapsed) / ops;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

// Each case must do what its name says, or the figures measure something else.
for (const c of cases) {
  let got: string;
  try {
    c.decode(c.bytes);
    got = 'ok';
  } catch (error) {
    got = error instanceof ProtocolError ? error.code : String(error);
  }
  if (got !== c.expect) throw new Error(`${c.name}: expected ${c.expect}, got ${got}`);
}

for (const c of cases) timed(c, WARMUP_MS);

const rows = cases.map((c) => {
  const samples: number[] = [];
  for (let r = 0; r < RUNS; r++) samples.push(timed(c, MS_PER_RUN));
  const ns = median(samples);
  return { c, ns, lo: Math.min(...samples), hi: Math.max(...samples) };
});

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const table = [
  ['case', 'bytes', 'ns/op (median)', 'ops/s', `range of ${RUNS} runs (ns/op)`],
  ...rows.map(({ c, ns, lo, hi }) => [c.name, String(c.bytes.byteLength), fmt(ns), fmt(1e9 / ns), `${fmt(lo)}–${fmt(hi)}`]),
];
const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
const line = (row: string[]) => `| ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`;
console.log(`decode+validate per datagram/line — Node ${process.version}, ${RUNS} runs × ${MS_PER_RUN} ms after ${WARMUP_MS} ms warm-up per case`);
console.log(line(table[0]!));
console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
for (const row of table.slice(1)) console.log(line(row));
if (sink === 42) console.log(''); // keeps the work observable
