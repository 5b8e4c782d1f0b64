// The interactive shell: a prompt offering every course operation by name, with tab completion,
// history and readable tables. A mistake gets a helpful sentence (did you mean …?), never a stack
// trace. Piped input works too: each line runs in turn, echoed so the transcript reads well.
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface, type Completer } from 'node:readline';
import type { Peer } from '../peer/peer.js';
import { describeError, errorAsJson, EXIT_FAILED, EXIT_OK, isExpected, UsageError } from './errors.js';
import { describeFlags } from './flags.js';
import { progressReporter, type ProgressStream } from './progress.js';
import { commandNames, parseCommandWords, SHELL_COMMANDS, type ShellContext } from './shell-commands.js';
import { didYouMean } from './suggest.js';
import { completeWord, splitWords } from './words.js';

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
}

/** Runs until quit or the end of input; resolves with the exit code (1 if a piped command failed). */
export async function runShell(options: ShellOptions): Promise<number> {
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
  rl.on('history', (history: string[]) => saveHistory(options.historyFile, history));
  let running: AbortController | undefined;
  rl.on('SIGINT', () => {
    if (running) running.abort();
    else rl.close();
  });

  const print = (text: string) => {
    if (text) output.write(`${text}\n`);
  };
  if (interactive) print(`P2FS shell for peer ${peer.name} · index server ${peer.serverLabel}\nType help for the commands, quit to leave.`);
  let failures = 0;
  // Off a terminal the prompt is not drawn; each line is echoed after it instead (below).
  const prompt = () => interactive && rl.prompt();
  prompt();
  for await (const raw of rl) {
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
  return interactive || failures === 0 ? EXIT_OK : EXIT_FAILED;

  function report(error: unknown, command: string | undefined): void {
    if (json) print(JSON.stringify({ ...(command ? { command } : {}), ok: false, error: errorAsJson(error) }));
    const text = describeError(error);
    errors.write(isExpected(error) ? `error: ${text}\n` : `internal error (please report it): ${text}\n`);
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
