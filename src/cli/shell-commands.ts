// The shell's commands: every operation of the course by name, plus status, files and help. Each
// is a small function over the Peer that returns text for people and data for --json.
import type { DownloadEvent, Peer } from '../peer/peer.js';
import { UsageError } from './errors.js';
import { parseFlags, parseIp, parseBindPort, type FlagSpecs, type FlagValues } from './flags.js';
import { MAX_HOLDERS_FLAG } from './peer-commands.js';
import { downloadFolder } from './peer-options.js';
import { bytes, filesTable, fromHolders, holdersTable, hostPort, peerInfoTable, peersTable, table, wordMatchesTable } from './format.js';
import type { ProgressReporter } from './progress.js';

export interface ShellContext {
  peer: Peer;
  /** Where download puts files unless --out says otherwise. */
  outDir: string;
  /** Names seen in answers, offered by tab completion. */
  seenPeers: Set<string>;
  seenFiles: Set<string>;
  /** A progress display for a download, or undefined when there should be none (--json). */
  progress(label: string): ProgressReporter | undefined;
  /** Aborted by Ctrl-C while a command runs. */
  signal: AbortSignal;
}

export interface CommandResult {
  text: string;
  data: unknown;
}

/** What tab completion offers for a command's arguments. */
export type Completion = 'shareable-files' | 'peers' | 'known-files' | 'commands' | 'none';

export interface ShellCommand<S extends FlagSpecs = FlagSpecs> {
  usage: string;
  help: string;
  aliases?: readonly string[];
  flags?: S;
  args: { min: number; max: number };
  complete: Completion;
  run(context: ShellContext, args: string[], flags: FlagValues<S>): Promise<CommandResult>;
}

const command = <S extends FlagSpecs>(spec: ShellCommand<S>): ShellCommand => spec as unknown as ShellCommand;

export const SHELL_COMMANDS: Record<string, ShellCommand> = {
  register: command({
    usage: 'register [--share]',
    help: 'register with the index server (REGISTER), or refresh the registration; publishes again what was published before',
    flags: {
      share: { help: 'also publish every file of the share folder' },
    },
    args: { min: 0, max: 0 },
    complete: 'none',
    async run({ peer }, _args, flags) {
      await peer.register();
      if (flags.share) await peer.publish([]);
      return { text: registeredLine(peer), data: { registered: peer.contact, sharedFiles: peer.status().sharedFiles } };
    },
  }),
  deregister: command({
    usage: 'deregister',
    help: 'leave the index (DE-REGISTER): the server forgets this peer and its files',
    aliases: ['de-register'],
    args: { min: 0, max: 0 },
    complete: 'none',
    async run({ peer }) {
      await peer.deregister();
      return { text: `de-registered ${peer.name}`, data: { deregistered: peer.name } };
    },
  }),
  publish: command({
    usage: 'publish [FILE...]',
    help: 'share files of the share folder (PUBLISH with size and SHA-256); no FILE: all of them',
    args: { min: 0, max: Infinity },
    complete: 'shareable-files',
    async run({ peer }, files) {
      const published = await peer.publish(files);
      const text = published.length === 0 ? 'the share folder has no files to publish' : `published ${published.length} file${published.length === 1 ? '' : 's'}\n${filesTable(published)}`;
      return { text, data: { published } };
    },
  }),
  remove: command({
    usage: 'remove FILE...',
    help: 'stop sharing files (REMOVE)',
    args: { min: 1, max: Infinity },
    complete: 'shareable-files',
    async run({ peer }, files) {
      await peer.remove(files);
      return { text: `removed ${files.map((f) => JSON.stringify(f)).join(', ')}`, data: { removed: files } };
    },
  }),
  list: command({
    usage: 'list',
    help: 'every registered peer and its files (RETRIEVE-ALL)',
    aliases: ['retrieve-all', 'peers'],
    args: { min: 0, max: 0 },
    complete: 'none',
    async run({ peer, seenPeers, seenFiles }) {
      const peers = await peer.listPeers();
      for (const p of peers) {
        seenPeers.add(p.name);
        for (const f of p.files) seenFiles.add(f.name);
      }
      return { text: peersTable(peers), data: { peers } };
    },
  }),
  info: command({
    usage: 'info PEER',
    help: "one peer's address and files (RETRIEVE-INFOT)",
    aliases: ['retrieve-infot'],
    args: { min: 1, max: 1 },
    complete: 'peers',
    async run({ peer, seenFiles }, [name]) {
      const info = await peer.peerInfo(name!);
      for (const f of info.files) seenFiles.add(f.name);
      return { text: peerInfoTable(info), data: info };
    },
  }),
  search: command({
    usage: 'search FILE',
    help: 'which peers share FILE (SEARCH-FILE)',
    aliases: ['search-file'],
    args: { min: 1, max: 1 },
    complete: 'known-files',
    async run({ peer, seenPeers }, [file]) {
      const holders = await peer.search(file!);
      for (const h of holders) seenPeers.add(h.name);
      return { text: holdersTable(file!, holders), data: { file, peers: holders } };
    },
  }),
  find: command({
    usage: 'find WORD...',
    help: 'files whose names hold every WORD, ignoring case and accents, best match first (SEARCH-WORDS)',
    aliases: ['search-words'],
    args: { min: 1, max: Infinity },
    complete: 'none',
    async run({ peer, seenFiles }, words) {
      const query = words.join(' ');
      const files = await peer.findWords(query);
      for (const f of files) seenFiles.add(f.name);
      return { text: wordMatchesTable(query, files), data: { words: query, files } };
    },
  }),
  download: command({
    usage: 'download FILE [--from PEER] [--max-holders N] [--out DIR] [--overwrite]',
    help: 'fetch FILE from every peer that shares it (up to --max-holders), each piece verified',
    aliases: ['get'],
    flags: {
      from: { value: 'PEER', help: 'only from this peer' },
      'max-holders': MAX_HOLDERS_FLAG,
      out: { value: 'DIR', help: "folder to save into (default: the shell's --out)" },
      overwrite: { help: 'replace an existing file of that name' },
    },
    args: { min: 1, max: 1 },
    complete: 'known-files',
    async run(context, [file], flags) {
      const outDir = flags.out === undefined ? context.outDir : await downloadFolder(flags.out);
      const progress = context.progress(file!);
      const onDownload = (event: DownloadEvent) => {
        if (event.kind === 'progress') progress?.update(event.download.bytes, event.download.totalBytes, event.download.holders);
      };
      context.peer.on('download', onDownload);
      try {
        const result = await context.peer.download(file!, {
          outDir,
          signal: context.signal,
          keepPartial: true,
          ...(flags.from ? { from: flags.from } : {}),
          ...(flags.overwrite ? { overwrite: true } : {}),
          ...(flags['max-holders'] ? { maxHolders: flags['max-holders'] } : {}),
        });
        const text = `saved ${result.path} (${bytes(result.size)}, SHA-256 ${result.sha256.slice(0, 12)}… verified) from ${fromHolders(result)}`;
        return { text, data: result };
      } catch (error) {
        if (!context.signal.aborted) throw error;
        const text = `download of ${JSON.stringify(file)} stopped: what arrived is kept, and the same download resumes from there`;
        return { text, data: { file, interrupted: true } };
      } finally {
        progress?.finish();
        context.peer.off('download', onDownload);
      }
    },
  }),
  'update-contact': command({
    usage: 'update-contact [--ip IP] [--tcp-port P] [--udp-port P]',
    help: 'change the address other peers and the server reach this peer at (UPDATE-CONTACT)',
    flags: {
      ip: { value: 'IP', help: 'the IP to advertise', parse: parseIp },
      'tcp-port': { value: 'P', help: 'serve files on this TCP port (0: any free one)', parse: parseBindPort },
      'udp-port': { value: 'P', help: 'talk to the server from this UDP port (0: any free one)', parse: parseBindPort },
    },
    args: { min: 0, max: 0 },
    complete: 'none',
    async run({ peer }, _args, flags) {
      if (flags.ip === undefined && flags['tcp-port'] === undefined && flags['udp-port'] === undefined) {
        throw new UsageError('update-contact: give at least one of --ip, --tcp-port, --udp-port');
      }
      const confirmed = await peer.updateContact({
        ...(flags.ip === undefined ? {} : { ip: flags.ip }),
        ...(flags['tcp-port'] === undefined ? {} : { tcpPort: flags['tcp-port'] }),
        ...(flags['udp-port'] === undefined ? {} : { udpPort: flags['udp-port'] }),
      });
      return { text: `contact updated: tcp ${hostPort(confirmed.ip, confirmed.tcpPort)}, udp port ${confirmed.udpPort}`, data: { updated: confirmed } };
    },
  }),
  status: command({
    usage: 'status',
    help: 'name, server (and whether it answers), addresses, shared files, transfers',
    args: { min: 0, max: 0 },
    complete: 'none',
    async run({ peer }) {
      const answers = await peer.checkServer();
      const s = peer.status();
      const rows = [
        ['name', s.name],
        ['index server', `${s.server} (${answers ? 'answering' : 'not answering'})`],
        ['registration', s.registration],
        ['advertised', `tcp ${hostPort(s.contact.ip, s.contact.tcpPort)}, udp port ${s.contact.udpPort}`],
        ['file server', s.tcpAddress],
        ['share folder', s.shareDir ?? '(none)'],
        ['shared files', String(s.sharedFiles)],
        ['uploads', s.uploads.length === 0 ? 'none' : s.uploads.map((u) => `${u.file} → ${u.peer} ${bytes(u.bytes)}/${bytes(u.size)}`).join('; ')],
        ['downloads', s.downloads.length === 0 ? 'none' : s.downloads.map((d) => `${d.file} ← ${d.holder} ${bytes(d.bytes)}`).join('; ')],
      ];
      return { text: rows.map(([k, v]) => `${k!.padEnd(13)} ${v}`).join('\n'), data: { ...s, serverAnswering: answers } };
    },
  }),
  files: command({
    usage: 'files',
    help: 'the files of the share folder, and which of them are published',
    args: { min: 0, max: 0 },
    complete: 'none',
    async run({ peer }) {
      const shared = new Set(peer.share?.shared().map((f) => f.name));
      const files = peer.shareableFiles().map((f) => ({ name: f.name, size: f.size, sha256: f.sha256, shared: shared.has(f.name) }));
      if (!peer.share) return { text: 'no share folder (start the shell with --share DIR)', data: { files } };
      if (files.length === 0) return { text: `${peer.share.dir} has no shareable files`, data: { files } };
      const rows = files.map((f) => [f.name, bytes(f.size), f.shared ? 'yes' : 'no']);
      return { text: table(['file', 'size', 'published'], rows), data: { files } };
    },
  }),
};

/** `registered as alice: tcp 10.0.0.5:6001, udp port 5001; sharing 2 files` */
export function registeredLine(peer: Peer): string {
  const c = peer.contact;
  const shared = peer.status().sharedFiles;
  return `registered as ${c.name}: tcp ${hostPort(c.ip, c.tcpPort)}, udp port ${c.udpPort}; sharing ${shared} file${shared === 1 ? '' : 's'}`;
}

/** Every name a command answers to, with the command's own name. */
export function commandNames(): Map<string, string> {
  const names = new Map<string, string>();
  for (const [name, spec] of Object.entries(SHELL_COMMANDS)) {
    names.set(name, name);
    for (const alias of spec.aliases ?? []) names.set(alias, name);
  }
  return names;
}

/** Parses a command's words against its flags and argument count. */
export function parseCommandWords(name: string, spec: ShellCommand, words: string[]): { args: string[]; flags: FlagValues<FlagSpecs> } {
  const { flags, positionals } = parseFlags(words, spec.flags ?? {}, name);
  const { min, max } = spec.args;
  if (positionals.length < min || positionals.length > max) {
    const expected = max === 0 ? 'no arguments' : min === max ? `${min} argument${min === 1 ? '' : 's'}` : `at least ${min} argument${min === 1 ? '' : 's'}`;
    throw new UsageError(`${name} takes ${expected}; usage: ${spec.usage}`);
  }
  return { args: positionals, flags };
}
