// `p2fs get FILE`: register, find the holders, download and verify, de-register. A stop signal
// interrupts it cleanly: the .part file is kept for the next get to resume, the peer de-registers,
// and the exit code says which signal (130, 143, 129). A failed download keeps its .part file too,
// as a crash would: what arrived was verified chunk by chunk, and the next get goes on from it.
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { Peer } from '../peer/peer.js';
import { indexName } from '../peer/share/names.js';
import { partPathsFor } from '../transfer/index.js';
import { EXIT_OK, exitCodeOnSignal, UsageError } from './errors.js';
import { bytes, fromHolders } from './format.js';
import type { GET } from './peer-commands.js';
import { downloadFolder, peerOptionsFrom } from './peer-options.js';
import type { CommandFlags } from './program.js';
import { progressReporter } from './progress.js';
import { reportPeer } from './report.js';
import { untilStopSignal, warnIfNotDeregistered, type StopSignal } from './stopping.js';

export async function run(flags: CommandFlags<typeof GET.flags>, args: string[]): Promise<number> {
  if (args.length !== 1) throw new UsageError(`get takes exactly one FILE, got ${args.length}; usage: get FILE [--out DIR]`);
  const file = args[0]!;
  const outDir = await downloadFolder(flags.out);
  const name = flags.name ?? `get-${randomBytes(3).toString('hex')}`;
  const aborter = new AbortController();
  let interruptedBy: StopSignal | undefined;
  void untilStopSignal().then((signal) => {
    interruptedBy = signal;
    aborter.abort();
  });
  const peer = await Peer.open({ ...peerOptionsFrom({ ...flags, name }, 'get'), database: 'memory://' });
  reportPeer(peer, process.stderr, { json: flags.json, messages: flags.verbose, activity: false });
  const progress = flags.json ? undefined : progressReporter(file, process.stderr);
  let total: number | undefined;
  let started = false;
  peer.on('download', (event) => {
    started = true;
    total = event.download.totalBytes;
    if (event.kind === 'progress') progress?.update(event.download.bytes, event.download.totalBytes, event.download.holders);
  });
  try {
    if (!aborter.signal.aborted) await peer.register();
    aborter.signal.throwIfAborted();
    const result = await peer.download(file, {
      outDir, signal: aborter.signal, keepPartial: true, ...(flags.from ? { from: flags.from } : {}), ...(flags.overwrite ? { overwrite: true } : {}),
      ...(flags['max-holders'] ? { maxHolders: flags['max-holders'] } : {}),
    });
    progress?.finish();
    const line = `saved ${result.path} (${bytes(result.size)}, SHA-256 ${result.sha256} verified) from ${fromHolders(result)}`;
    process.stdout.write(flags.json ? `${JSON.stringify({ ok: true, ...result })}\n` : `${line}\n`);
    return EXIT_OK;
  } catch (error) {
    progress?.finish();
    const kept = await keptData(partPathsFor(outDir, indexName(file)).part, total);
    if (interruptedBy === undefined) {
      if (started && kept && !flags.json) process.stderr.write(`${kept.text}\n`);
      throw error;
    }
    if (flags.json) process.stdout.write(`${JSON.stringify({ ok: false, interrupted: interruptedBy, ...(kept ? { part: kept.part, bytes: kept.bytes } : {}) })}\n`);
    else process.stderr.write(`${interruptedBy}: download interrupted, ${kept?.text ?? 'before any data arrived'}\n`);
    return exitCodeOnSignal(interruptedBy);
  } finally {
    progress?.finish();
    warnIfNotDeregistered(await peer.stop());
  }
}

/** The .part file a stopped or failed get leaves (its data verified so far), and what to do with it. */
async function keptData(part: string, total: number | undefined): Promise<{ part: string; bytes: number; text: string } | undefined> {
  const bytesKept = await stat(part).then((s) => s.size, () => undefined);
  if (bytesKept === undefined) return undefined;
  const of = total === undefined ? '' : ` of ${bytes(total)}`;
  return { part, bytes: bytesKept, text: `${bytes(bytesKept)}${of} kept in ${part}; the same get resumes from there` };
}
