// Micro-benchmark (not a test) of the transfer codec's text paths, per 100 MB of the benchmarks'
// text: the FILE frame parser with its word loop (bytes anywhere) against the SIMD kernel (bytes
// copied into the kernel's memory a socket block at a time, as the piece decoder does), called
// once per frame or once per run of frames; and the encoder (the kernel, fed the blocks a file
// server reads) into send batches.
// `npm run bench:codec [-- --mb 30 --runs 7]`
import { parseArgs } from 'node:util';
import { parseCanonicalFile, type FastFrameFields } from '../src/transfer/codec/frame-parser.js';
import { FrameEncoder } from '../src/transfer/codec/frame-encoder.js';
import { canonicalPrefix, viewOf } from '../src/transfer/codec/layout.js';
import { READ_BLOCK_BYTES, SOCKET_READ_BYTES } from '../src/transfer/limits.js';
import { TextKernel } from '../src/transfer/simd/text-kernel.js';
import { textBlock } from './bench/sample-text.js';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '30' }, runs: { type: 'string', default: '7' } } });
const payloadBytes = Number(values.mb) * 1_000_000;
const RQ = 1;
const FILE = 'bench.txt';

const text = textBlock(payloadBytes);
const encoder = new FrameEncoder({ rq: RQ, file: FILE, encoding: 'utf8' });
const wire = Buffer.concat([...encoder.push(text), ...encoder.end(text.length, '0'.repeat(64))]);
const prefix = canonicalPrefix(RQ, FILE);
const fields: FastFrameFields = { chunk: 0, encoding: 'utf8', lineEnd: 0, utf8Unchecked: false };

/** Parses every FILE frame of bytes[0..limit) into out; returns where the first line it could not take starts. */
function parseFrames(bytes: Buffer, limit: number, out: Buffer, kernel?: TextKernel): number {
  const view = viewOf(bytes);
  const outView = viewOf(out);
  let start = 0;
  for (;;) {
    if (parseCanonicalFile(bytes, view, start, limit, prefix, out, outView, 0, fields, kernel) < 0) return start;
    start = fields.lineEnd + 1;
  }
}

function wordLoop(): void {
  const out = Buffer.alloc(4096);
  const stop = parseFrames(wire, wire.length, out);
  if (wire.indexOf('\n', stop) !== wire.length - 1) throw new Error('the word loop left FILE frames to the slow path');
}

const kernel = new TextKernel();
const input = kernel.memory.subarray(kernel.firstFree, kernel.firstFree + SOCKET_READ_BYTES);
const kernelOut = kernel.memory.subarray(kernel.firstFree + SOCKET_READ_BYTES, kernel.firstFree + 2 * SOCKET_READ_BYTES + 4096);
kernel.setPrefix(prefix.bytes);

function simdKernel(): void {
  // Block by block, as from a socket; a line cut by a block's end starts the next block.
  let at = 0;
  while (wire.length - at > SOCKET_READ_BYTES) {
    const bytes = wire.copy(input, 0, at, at + SOCKET_READ_BYTES);
    at += parseFrames(input, bytes, kernelOut, kernel);
  }
  const bytes = wire.copy(input, 0, at);
  const stop = parseFrames(input, bytes, kernelOut, kernel);
  if (input.indexOf('\n', stop) !== bytes - 1) throw new Error('the kernel left FILE frames to the slow path');
}

/** The run path: one call per block takes every whole frame in it. */
function simdRuns(): void {
  const lastChunk = encoder.nextChunk - 1;
  let chunk = 1;
  let at = 0;
  while (at < wire.length) {
    const bytes = wire.copy(input, 0, at);
    const frames = kernel.parseTextFrames(input.byteOffset, input.byteOffset + bytes, kernelOut.byteOffset, chunk, lastChunk);
    if (frames === 0) break;
    chunk += frames;
    at += kernel.next - input.byteOffset;
  }
  if (chunk !== encoder.nextChunk) throw new Error(`the kernel's runs stopped at chunk ${chunk} of ${encoder.nextChunk}`);
}

/** The encoder as a file server drives it: blocks read off disk in, send batches out. */
function encode(): void {
  const encoder = new FrameEncoder({ rq: RQ, file: FILE, encoding: 'utf8' });
  let bytes = 0;
  for (let at = 0; at < text.length; at += READ_BLOCK_BYTES) {
    for (const batch of encoder.push(text.subarray(at, at + READ_BLOCK_BYTES))) bytes += batch.length;
  }
  for (const batch of encoder.end(text.length, '0'.repeat(64))) bytes += batch.length;
  if (bytes !== wire.length) throw new Error(`the encoder wrote ${bytes} bytes, not ${wire.length}`);
}

function msPer100MB(run: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < Number(values.runs); i++) {
    const started = performance.now();
    run();
    times.push(((performance.now() - started) * 100_000_000) / payloadBytes);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

process.stdout.write(`${values.mb} MB of text, ${(wire.length / 1e6).toFixed(1)} MB of frames; ms per 100 MB of payload, median of ${values.runs} runs:\n`);
const rows: Array<[string, number]> = [
  ['parse FILE frames, word loop', msPer100MB(wordLoop)],
  ['parse FILE frames, SIMD kernel per frame', msPer100MB(simdKernel)],
  ['parse FILE frames, SIMD kernel per run of frames', msPer100MB(simdRuns)],
  ['encode FILE frames, SIMD kernel', msPer100MB(encode)],
];
for (const [name, ms] of rows) process.stdout.write(`  ${name.padEnd(50)} ${ms.toFixed(0).padStart(5)} ms\n`);
