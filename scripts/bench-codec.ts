// Micro-benchmark (not a test) of the transfer codec's text paths, per 100 MB of the benchmarks'
// text: the FILE frame parser, with the bytes copied into the SIMD kernel's memory a socket block
// at a time as the decoders do, taking one frame per call (a line on its own) or a run of frames
// per call (the decoders' usual way); and the encoder, fed the blocks a file server reads, into
// send batches. The JavaScript loops the kernel replaced took 144 ms (parse) and 169 ms (encode)
// here (docs/benchmarks.md, session 11).
// `npm run bench:codec [-- --mb 30 --runs 7]`
import { parseArgs } from 'node:util';
import { parseCanonicalFile, type FastFrameFields } from '../src/transfer/codec/frame-parser.js';
import { FrameEncoder } from '../src/transfer/codec/frame-encoder.js';
import { canonicalPrefix, viewOf } from '../src/transfer/codec/layout.js';
import { READ_BLOCK_BYTES, SOCKET_READ_BYTES } from '../src/transfer/limits.js';
import { TextKernel } from '../src/transfer/simd/text-kernel.js';
import { median } from './bench/median.js';
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

const kernel = new TextKernel();
const input = kernel.memory.subarray(kernel.firstFree, kernel.firstFree + SOCKET_READ_BYTES);
const kernelOut = kernel.memory.subarray(kernel.firstFree + SOCKET_READ_BYTES, kernel.firstFree + 2 * SOCKET_READ_BYTES + 4096);
kernel.setPrefix(prefix.bytes);

/** Parses every FILE frame of bytes[0..limit) into out; returns where the first line it could not take starts. */
function parseFrames(bytes: Buffer, limit: number, out: Buffer): number {
  const view = viewOf(bytes);
  const outView = viewOf(out);
  let start = 0;
  for (;;) {
    if (parseCanonicalFile(bytes, view, start, limit, prefix, out, outView, 0, fields, kernel) < 0) return start;
    start = fields.lineEnd + 1;
  }
}

function oneFramePerCall(): void {
  // Block by block, as from a socket; a line cut by a block's end starts the next block.
  let at = 0;
  while (wire.length - at > SOCKET_READ_BYTES) {
    const bytes = wire.copy(input, 0, at, at + SOCKET_READ_BYTES);
    at += parseFrames(input, bytes, kernelOut);
  }
  const bytes = wire.copy(input, 0, at);
  const stop = parseFrames(input, bytes, kernelOut);
  if (input.indexOf('\n', stop) !== bytes - 1) throw new Error('the kernel left FILE frames to the slow path');
}

/** The run path: one call per block takes every whole frame in it. */
function runPerCall(): void {
  const lastChunk = encoder.nextChunk - 1;
  let chunk = 1;
  let at = 0;
  while (at < wire.length) {
    const bytes = wire.copy(input, 0, at);
    const frames = kernel.parseFrames('utf8', input.byteOffset, input.byteOffset + bytes, kernelOut.byteOffset, chunk, lastChunk);
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
  return median(times);
}

process.stdout.write(`${values.mb} MB of text, ${(wire.length / 1e6).toFixed(1)} MB of frames; ms per 100 MB of payload, median of ${values.runs} runs:\n`);
const rows: Array<[string, number]> = [
  ['parse FILE frames, one frame per call', msPer100MB(oneFramePerCall)],
  ['parse FILE frames, a run of frames per call', msPer100MB(runPerCall)],
  ['encode FILE frames', msPer100MB(encode)],
];
for (const [name, ms] of rows) process.stdout.write(`  ${name.padEnd(50)} ${ms.toFixed(0).padStart(5)} ms\n`);
