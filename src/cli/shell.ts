// The interactive shell: a prompt offering every course operation by name, with tab completion,
// history and readable tables. A mistake gets a helpful sentence (did you mean …?), never a stack
// trace. Piped input works too: each line runs in turn, echoed so the transcript reads well. The
// shell registers as it starts, so a piped `list` needs no `register` first.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface, type Completer, type Interface } from 'node:readline';
import { Peer } from '../peer/peer.js';
import { PEER_DATA_FOLDER } from '../peer/places.js';
import { describeError, errorAsJson, EXIT_FAILED, EXIT_OK, exitCodeOnSignal, isExpected, UsageError } from './errors.js';
import { describeFlags } from './flags.js';
import type { SHELL } from './peer-commands.js';
import { downloadFolder, peerOptionsFrom } from './peer-options.js';
import type { CommandFlags } from './program.js';
import { progressReporter, type ProgressStream } from './progress.js';
import { reportPeer } from './report.js';
import { commandNames, parseCommandWords, registeredLine, SHELL_COMMANDS, type ShellContext } from './shell-commands.js';
import { untilStopSignal, warnIfNotDeregistered, type StopSignal } from './stopping.js';
import { didYouMean } from './suggest.js';
import { completeWord, splitWords } from './words.js';

/** `p2fs shell` (the default command): open the peer, register, read commands until quit. */
export async function run(flags: CommandFlags<typeof SHELL.flags>, args: string[]): Promise<number> {
  if (args.length > 0) throw new UsageError(`shell takes no arguments, got "${args[0]}"`);
  const outDir = await downloadFolder(flags.out);
  // Without a share folder nothing remembers a name: like get, the shell then makes one up.
  const name = flags.name ?? (flags.share ? undefined : `shell-${randomBytes(3).toString('hex')}`);
  const stopped = untilStopSignal();
  const peer = await Peer.open({
    ...peerOptionsFrom({ ...flags, ...(name === undefined ? {} : { name }) }, 'shell'),
    ...(flags.share ? { share: flags.share, shareMode: 'manual' as const } : {}),
    ...(flags.db === undefined ? {} : { database: flags.db }),
  });
  reportPeer(peer, process.stderr, { json: flags.json, messages: flags.verbose, activity: false });
  try {
    const ended = await runShell({
      peer,
      input: process.stdin,
      output: process.stdout,
      errors: process.stderr,
      interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
      json: flags.json,
      outDir,
      stop: stopped,
      ...(peer.share ? { historyFile: join(peer.share.dir, PEER_DATA_FOLDER, 'shell-history') } : {}),
    });
    return ended.signal ? exitCodeOnSignal(ended.signal) : ended.code;
  } finally {
    warnIfNotDeregistered(await peer.stop());
  }
}

/** Lines of history kept between sessions: plenty to scroll back, a few tens of kB at most. */
const HISTORY_LINES = 500;
const QUIT = ['quit', 'exit'];

export interface ShellOptions {
  peer: Peer;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream & ProgressStream;
  errors: NodeJS.WritableStream;
  /** A person at a terminal (prompt, completion, Ctrl-C aborts the running command). */
  interactive: boolean;
  json: boolean;
  /** Default folder for download. */
  outDir: string;
  /** Where history is kept between sessions; none keeps it for this session only. */
  historyFile?: string;
  /** A stop signal (SIGTERM, SIGHUP; SIGINT when input is piped) ends the shell like quit. */
  stop?: Promise<StopSignal>;
  /** Register as the shell starts (default true): a piped session can then query at once. */
  registerFirst?: boolean;
}

export interface ShellEnd {
  /** 1 if a piped command failed, else 0. */
  code: number;
  /** The signal that ended the shell, if one did. */
  signal?: StopSignal;
}

/** Runs until quit, the end of input or a stop signal. */
export async function runShell(options: ShellOptions): Promise<ShellEnd> {
  const { peer, output, errors, interactive, json } = options;
  const names = commandNames();
  const seenPeers = new Set<string>();
  const seenFiles = new Set<string>();
  const rl = createInterface({
    input: options.input,
    output,
    terminal: interactive,
    completer: completer(peer, names, seenPeers, seenFiles),
    history: loadHistory(options.historyFile),
    historySize: HISTORY_LINES,
    removeHistoryDuplicates: true,
    prompt: `p2fs ${peer.name}> `,
  });
  // Taken at once: lines (and the end of piped input) arriving while the shell registers wait in
  // the iterator, where a loop started later would miss them.
  const lines = rl[Symbol.asyncIterator]();
  rl.on('history', (history: string[]) => saveHistory(options.historyFile, history));
  let running: AbortController | undefined;
  let signal: StopSignal | undefined;
  void options.stop?.then((received) => {
    signal = received;
    running?.abort();
    rl.close();
  });
  onCtrlC(rl, output, () => running);

  const print = (text: string) => {
    if (text) output.write(`${text}\n`);
  };
  if (interactive) print(`P2FS shell for peer ${peer.name} · index server ${peer.serverLabel}\nType help for the commands, quit to leave.`);
  if (options.registerFirst ?? true) await registerAtStart(peer, json, print, errors);
  let failures = 0;
  // Off a terminal the prompt is not drawn; each line is echoed after it instead (below).
  const prompt = () => interactive && rl.prompt();
  prompt();
  for await (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) {
      prompt();
      continue;
    }
    if (!interactive && !json) print(`${rl.getPrompt()}${line}`);
    let words: string[];
    try {
      words = splitWords(line);
    } catch (error) {
      failures++;
      report(error, undefined);
      prompt();
      continue;
    }
    const typed = words[0]!;
    if (QUIT.includes(typed)) break;
    if (typed === 'help' || typed === '?') {
      print(help(words[1], names));
      prompt();
      continue;
    }
    const name = names.get(typed);
    running = new AbortController();
    try {
      if (name === undefined) {
        throw new UsageError(`unknown command "${typed}"${didYouMean(typed, [...names.keys(), 'help', 'quit'])}; type help for the list`);
      }
      const spec = SHELL_COMMANDS[name]!;
      const { args, flags } = parseCommandWords(name, spec, words.slice(1));
      const context: ShellContext = {
        peer, outDir: options.outDir, seenPeers, seenFiles, signal: running.signal,
        progress: (label) => (json ? undefined : progressReporter(label, output)),
      };
      const result = await spec.run(context, args, flags);
      if (json) print(JSON.stringify({ command: name, ok: true, result: result.data }));
      else print(result.text);
    } catch (error) {
      failures++;
      report(error, name);
    } finally {
      running = undefined;
    }
    prompt();
  }
  rl.close();
  return { code: interactive || failures === 0 ? EXIT_OK : EXIT_FAILED, ...(signal ? { signal } : {}) };

  function report(error: unknown, command: string | undefined): void {
    if (json) print(JSON.stringify({ ...(command ? { command } : {}), ok: false, error: errorAsJson(error) }));
    const text = describeError(error);
    errors.write(isExpected(error) ? `error: ${text}\n` : `internal error (please report it): ${text}\n`);
  }
}

/**
 * Ctrl-C at the prompt: stops the running command, else clears a half-typed line; on an empty line
 * it says how to leave, and a second Ctrl-C in a row leaves (as node's own REPL does).
 */
function onCtrlC(rl: Interface, output: NodeJS.WritableStream, running: () => AbortController | undefined): void {
  let armed = false;
  rl.on('line', () => (armed = false));
  rl.on('SIGINT', () => {
    const command = running();
    if (command) return command.abort();
    if (rl.line.length > 0) {
      armed = false;
      rl.write(null, { ctrl: true, name: 'e' });
      rl.write(null, { ctrl: true, name: 'u' });
      return;
    }
    if (armed) return rl.close();
    armed = true;
    output.write('\n(press Ctrl-C again, Ctrl-D or type quit to leave)\n');
    rl.prompt();
  });
}

/** The shell starts registered when the server answers; if it does not, it says why and carries on. */
async function registerAtStart(peer: Peer, json: boolean, print: (text: string) => void, errors: NodeJS.WritableStream): Promise<void> {
  try {
    await peer.register();
    print(json ? JSON.stringify({ event: 'registered', contact: peer.contact }) : registeredLine(peer));
  } catch (error) {
    if (json) print(JSON.stringify({ event: 'not-registered', error: errorAsJson(error) }));
    errors.write(`not registered: ${describeError(error)}\n(type register to try again)\n`);
  }
}

function help(topic: string | undefined, names: Map<string, string>): string {
  if (topic !== undefined) {
    const name = names.get(topic);
    if (name === undefined) return `no command "${topic}"${didYouMean(topic, [...names.keys()])}`;
    const spec = SHELL_COMMANDS[name]!;
    const aliases = spec.aliases?.length ? `\nalso: ${spec.aliases.join(', ')}` : '';
    const flags = spec.flags ? `\n${describeFlags(spec.flags)}` : '';
    return `${spec.usage}\n  ${spec.help}${aliases}${flags}`;
  }
  const rows = Object.values(SHELL_COMMANDS).map((spec) => [spec.usage, spec.help] as const);
  rows.push(['help [COMMAND]', 'this list, or one command in detail'], ['quit', 'de-register (if registered) and leave']);
  const width = Math.max(...rows.map(([usage]) => usage.length));
  return rows.map(([usage, text]) => `  ${usage.padEnd(width)}  ${text}`).join('\n');
}

function completer(peer: Peer, names: Map<string, string>, seenPeers: Set<string>, seenFiles: Set<string>): Completer {
  return (line: string) => {
    const words = rawWords(line);
    const current = words.at(-1) ?? '';
    const bare = unescapeTyped(current);
    let candidates: string[];
    if (words.length <= 1) {
      candidates = [...names.keys(), 'help', 'quit'];
    } else {
      const spec = SHELL_COMMANDS[names.get(words[0]!) ?? ''];
      if (!spec) return [[], current];
      if (bare.startsWith('-')) {
        candidates = Object.keys(spec.flags ?? {}).map((flag) => `--${flag}`);
      } else if (words.at(-2) === '--from') {
        candidates = [...seenPeers];
      } else {
        switch (spec.complete) {
          case 'shareable-files':
            candidates = peer.shareableFiles().map((f) => f.name);
            break;
          case 'peers':
            candidates = [...seenPeers];
            break;
          case 'known-files':
            candidates = [...new Set([...seenFiles, ...peer.shareableFiles().map((f) => f.name)])];
            break;
          default:
            candidates = [];
        }
      }
    }
    // A trailing space on a finished word, as shells do, so the next word can follow at once.
    const hits = candidates.filter((c) => c.startsWith(bare)).sort().map((c) => `${completeWord(c, current)} `);
    return [hits, current];
  };
}

/** The words of a partly typed line as typed (quotes and backslashes kept); the last may be ''. */
function rawWords(line: string): string[] {
  const words: string[] = [''];
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (!quote && /\s/.test(char)) {
      if (words.at(-1) !== '') words.push('');
      continue;
    }
    if (char === '\\' && quote !== "'" && i + 1 < line.length) {
      words[words.length - 1] += char + line[++i];
      continue;
    }
    if (char === quote) quote = undefined;
    else if (!quote && (char === '"' || char === "'")) quote = char;
    words[words.length - 1] += char;
  }
  return words;
}

/** What a partly typed word says so far: `"bob no` and `bob\ no` both mean `bob no`. */
function unescapeTyped(typed: string): string {
  try {
    return splitWords(`${typed}${/^["']/.test(typed) && !/["']$/.test(typed.slice(1)) ? typed[0] : ''}`)[0] ?? '';
  } catch {
    return typed.replace(/^["']/, '');
  }
}

function loadHistory(file: string | undefined): string[] {
  if (!file) return [];
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).reverse().slice(0, HISTORY_LINES);
  } catch {
    return []; // no history yet
  }
}

function saveHistory(file: string | undefined, history: string[]): void {
  if (!file) return;
  try {
    writeFileSync(file, `${[...history].reverse().join('\n')}\n`, { mode: 0o600 });
  } catch {
    // history is a convenience: a read-only folder must not break the shell
  }
}
