#!/usr/bin/env node
// A P2FS peer: a client of the index server (UDP) and a file server to other peers (TCP) at once.
// Installed as `p2fs`; from a clone, `tsx scripts/peer.ts` or `npm run peer --`.
//
//   p2fs serve --share ~/Public --name alice --server 192.0.2.7:4000
//   p2fs get notes.txt --server 192.0.2.7:4000 --out ~/Downloads
//   p2fs find big bunny                               # files by words
//   p2fs --name bob --server 192.0.2.7:4000          # the interactive shell
//   p2fs COMMAND --help
//
// The peer itself (registration, share folder, downloads) is src/peer/peer.ts, which the web page
// drives too; this file only reads the command line, picks the command and runs it. A command's
// code is imported only when it runs, so --help and --version answer without loading the peer.
import { UsageError } from '../src/cli/errors.js';
import { expandBareUiFlag, FIND, GET, SERVE, SHELL } from '../src/cli/peer-commands.js';
import { answersAlone, command, commandHelp, parseCommand, runProgram, type Command } from '../src/cli/program.js';
import { didYouMean } from '../src/cli/suggest.js';

const PROGRAM = 'p2fs';

/** The peer's commands: what each does and takes (the spec), and the module that runs it. */
const COMMANDS: Record<string, Command> = {
  serve: command(SERVE, () => import('../src/cli/serve.js')),
  get: command(GET, () => import('../src/cli/get.js')),
  find: command(FIND, () => import('../src/cli/find.js')),
  shell: command(SHELL, () => import('../src/cli/shell.js')),
};
const DEFAULT_COMMAND = 'shell';

const overview = () => `P2FS peer: share a folder with other peers, find their files and download them.

usage: ${PROGRAM} [COMMAND] [FLAGS]     (from a clone: npm run peer -- [COMMAND] [FLAGS])

commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(6)}  ${c.summary}`).join('\n')}

With no command, the shell starts. ${PROGRAM} COMMAND --help lists a command's flags.
The index server is --server HOST:PORT, else $P2FS_SERVER, else 127.0.0.1:4000.
Exit codes: 0 success, 1 the operation failed, 2 the command line is wrong,
128 + the signal's number when a signal interrupted it (130 for Ctrl-C).`;

/** Splits argv into the command and its own arguments (a leading flag means the default command). */
function pickCommand(argv: string[]): { name: string; rest: string[] } {
  const [first, ...rest] = argv;
  if (first === undefined || first.startsWith('-')) return { name: DEFAULT_COMMAND, rest: argv };
  return { name: first, rest };
}

await runProgram(PROGRAM, async (argv) => {
  if (answersAlone(PROGRAM, argv, overview)) return 0;
  if (argv[0] === 'help' && argv[1] !== undefined && COMMANDS[argv[1]]) {
    process.stdout.write(`${commandHelp(PROGRAM, COMMANDS[argv[1]]!)}\n`);
    return 0;
  }
  const { name, rest } = pickCommand(argv);
  const chosen = COMMANDS[name];
  if (!chosen) {
    const { commandNames } = await import('../src/cli/shell-commands.js');
    const inShell = commandNames().has(name) ? `; "${name}" is a shell command: start the shell (no command) and type it there` : didYouMean(name, Object.keys(COMMANDS));
    throw new UsageError(`unknown command "${name}"${inShell} (the commands: ${Object.keys(COMMANDS).join(', ')})`);
  }
  const parsed = parseCommand(PROGRAM, chosen, expandBareUiFlag(rest), name);
  if (!parsed) return 0;
  const { run } = await chosen.load();
  return run(parsed.flags, parsed.args);
});
