// The peer's three commands: serve a folder, get one file, or work at the shell. Each is a flag
// table, a help text and a run function that resolves with the exit code.
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Peer } from '../peer/peer.js';
import { PEER_DATA_FOLDER } from '../peer/places.js';
import { COMMON_FLAGS, NETWORK_FLAGS, peerOptionsFrom, untilStopSignal } from './common.js';
import { describeError, EXIT_OK, UsageError } from './errors.js';
import { parsePositive, type FlagSpecs, type FlagValues } from './flags.js';
import { bytes, hostPort } from './format.js';
import { progressReporter } from './progress.js';
import { reportPeer } from './report.js';
import { runShell } from './shell.js';
import { startUiFromFlags, UI_FLAGS } from './ui.js';

export interface PeerCommand<S extends FlagSpecs = FlagSpecs> {
  summary: string;
  usage: string;
  /** Said after the flags in --help. */
  notes?: string;
  flags: S;
  run(flags: FlagValues<S>, args: string[]): Promise<number>;
}

const define = <S extends FlagSpecs>(command: PeerCommand<S>): PeerCommand => command as unknown as PeerCommand;

const SHARE_RULES = `What is shared: every regular file directly in DIR. Not subfolders, not hidden files (names
starting with '.'), not downloads in progress (*.part), not symbolic links leading out of DIR.
Files whose names the protocol refuses (control characters, over 255 characters) are skipped
with a warning. The peer keeps its database (file hashes, name, token) in DIR/${PEER_DATA_FOLDER}/.`;

export const serve = define({
  summary: 'share a folder: register, publish it, keep the index in step, serve downloads until Ctrl-C',
  usage: 'serve --share DIR --name NAME --server HOST:PORT [--tcp-port P] [--udp-port P] [--host IP] [--ui [PORT]]',
  notes: `${SHARE_RULES}\nFiles added, changed or deleted while serving are published, republished or removed.\nOn SIGINT or SIGTERM the peer de-registers and exits 0.`,
  flags: {
    share: { value: 'DIR', help: 'the folder to share (required)' },
    ...COMMON_FLAGS,
    ...NETWORK_FLAGS,
    'max-uploads': { value: 'N', help: 'uploads served at once; more get "busy, try later" (default 8)', parse: parsePositive },
    db: { value: 'URL', help: `the peer's database (default sqlite://DIR/${PEER_DATA_FOLDER}/peer.sqlite)` },
    ...UI_FLAGS,
  },
  async run(flags, args) {
    if (args.length > 0) throw new UsageError(`serve takes no arguments, got "${args[0]}"`);
    if (!flags.share) throw new UsageError('serve needs --share DIR: the folder to share');
    const stop = untilStopSignal();
    const peer = await Peer.open({
      ...peerOptionsFrom(flags, 'peer'),
      share: flags.share,
      shareMode: 'auto',
      ...(flags.db === undefined ? {} : { database: flags.db }),
      ...(flags['max-uploads'] === undefined ? {} : { maxUploads: flags['max-uploads'] }),
    });
    reportPeer(peer, process.stdout, { json: flags.json, messages: flags.verbose, activity: true });
    try {
      await peer.register();
    } catch (error) {
      await peer.stop();
      throw error;
    }
    const s = peer.status();
    const where = `tcp ${hostPort(s.contact.ip, s.contact.tcpPort)}, udp port ${s.contact.udpPort}`;
    process.stdout.write(flags.json
      ? `${JSON.stringify({ event: 'serving', name: peer.name, share: s.shareDir, files: s.sharedFiles, contact: s.contact, server: s.server })}\n`
      : `serving ${s.sharedFiles} file${s.sharedFiles === 1 ? '' : 's'} from ${s.shareDir} as ${peer.name} (${where}) · index server ${s.server}\n`);
    const ui = await startUiFromFlags(peer, flags, process.stdout).catch(async (error) => {
      await peer.stop();
      throw error;
    });
    const signal = await stop;
    if (!flags.json) process.stdout.write(`${signal}: de-registering and stopping\n`);
    await ui?.close();
    const { deregisterError } = await peer.stop();
    if (deregisterError) process.stderr.write(`warning: could not de-register (${describeError(deregisterError)}); the index server will expire this peer\n`);
    return EXIT_OK;
  },
});

export const get = define({
  summary: 'download one file from a peer that shares it, verified, then leave',
  usage: 'get FILE --server HOST:PORT [--out DIR] [--from PEER] [--name NAME]',
  notes: `Registers (as NAME, default get-<random>), asks the index who shares FILE, downloads it and
verifies its size and SHA-256 against FILE-END and against what the holder published, then
moves it into DIR and de-registers. If a holder fails, stalls or sends bad data, the download
resumes at the next holder; a failed download leaves no file behind. Exit 0 when saved, 1 if not.`,
  flags: {
    out: { value: 'DIR', help: 'folder to save into (default: the current folder)' },
    from: { value: 'PEER', help: 'only from this peer' },
    overwrite: { help: 'replace an existing file of that name in DIR' },
    ...COMMON_FLAGS,
    ...NETWORK_FLAGS,
  },
  async run(flags, args) {
    if (args.length !== 1) throw new UsageError(`get takes exactly one FILE, got ${args.length}; usage: get FILE --server HOST:PORT [--out DIR]`);
    const file = args[0]!;
    const outDir = resolve(flags.out ?? '.');
    const name = flags.name ?? `get-${randomBytes(3).toString('hex')}`;
    const aborter = new AbortController();
    void untilStopSignal().then(() => aborter.abort());
    const peer = await Peer.open({ ...peerOptionsFrom({ ...flags, name }, 'get'), database: 'memory://' });
    reportPeer(peer, process.stderr, { json: flags.json, messages: flags.verbose, activity: false });
    const progress = flags.json ? undefined : progressReporter(file, process.stderr);
    peer.on('download', (event) => {
      if (event.kind === 'progress') progress?.update(event.download.bytes, event.download.totalBytes);
    });
    try {
      await peer.register();
      const result = await peer.download(file, { outDir, signal: aborter.signal, ...(flags.from ? { from: flags.from } : {}), ...(flags.overwrite ? { overwrite: true } : {}) });
      progress?.finish();
      const line = `saved ${result.path} (${bytes(result.size)}, SHA-256 ${result.sha256} verified) from ${result.holder}`;
      process.stdout.write(flags.json ? `${JSON.stringify({ ok: true, ...result })}\n` : `${line}\n`);
      return EXIT_OK;
    } finally {
      progress?.finish();
      const { deregisterError } = await peer.stop();
      if (deregisterError) process.stderr.write(`warning: could not de-register (${describeError(deregisterError)})\n`);
    }
  },
});

export const shell = define({
  summary: 'an interactive prompt offering every operation by name (the default command)',
  usage: 'shell --name NAME --server HOST:PORT [--share DIR] [--out DIR]',
  notes: `Commands: register, deregister, publish, remove, list (retrieve-all), info (retrieve-infot),
search, download, update-contact, status, files, help, quit. Tab completes commands, flags,
files and peer names; history is kept in DIR/${PEER_DATA_FOLDER}/shell-history with --share.
With --share DIR the shell serves files from DIR, and publishes those you name.
Input may be piped: each line runs in turn; the exit code is 1 if any command failed.`,
  flags: {
    share: { value: 'DIR', help: 'a folder to serve and publish files from' },
    out: { value: 'DIR', help: 'where download saves files (default: the share folder, else the current folder)' },
    db: { value: 'URL', help: `the peer's database (default sqlite://DIR/${PEER_DATA_FOLDER}/peer.sqlite with --share, else memory://)` },
    ...COMMON_FLAGS,
    ...NETWORK_FLAGS,
  },
  async run(flags, args) {
    if (args.length > 0) throw new UsageError(`shell takes no arguments, got "${args[0]}"`);
    const peer = await Peer.open({
      ...peerOptionsFrom(flags, 'shell'),
      ...(flags.share ? { share: flags.share, shareMode: 'manual' as const } : {}),
      ...(flags.db === undefined ? {} : { database: flags.db }),
    });
    reportPeer(peer, process.stderr, { json: flags.json, messages: flags.verbose, activity: false });
    try {
      return await runShell({
        peer,
        input: process.stdin,
        output: process.stdout,
        errors: process.stderr,
        interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
        json: flags.json,
        outDir: resolve(flags.out ?? flags.share ?? '.'),
        ...(peer.share ? { historyFile: join(peer.share.dir, PEER_DATA_FOLDER, 'shell-history') } : {}),
      });
    } finally {
      const { deregisterError } = await peer.stop();
      if (deregisterError) process.stderr.write(`warning: could not de-register (${describeError(deregisterError)})\n`);
    }
  },
});
