// A P2FS peer: a client of the index server (UDP) and a file server to other peers (TCP) at once.
//
//   tsx scripts/peer.ts serve --share ~/Public --name alice --server 192.0.2.7:4000
//   tsx scripts/peer.ts get notes.txt --server 192.0.2.7:4000 --out ~/Downloads
//   tsx scripts/peer.ts --name bob --server 192.0.2.7:4000          # the interactive shell
//   tsx scripts/peer.ts COMMAND --help
//
// The peer itself (registration, share folder, downloads) is src/peer/peer.ts, which the web GUI
// drives too; this file only reads the command line, picks the command and reports the outcome.
import { get, serve, shell, type PeerCommand } from '../src/cli/commands.js';
import { describeError, errorAsJson, exitCodeOf, EXIT_OK, isExpected, UsageError } from '../src/cli/errors.js';
import { describeFlags, parseFlags } from '../src/cli/flags.js';
import { commandNames } from '../src/cli/shell-commands.js';
import { didYouMean } from '../src/cli/suggest.js';
import { expandBareUiFlag } from '../src/cli/ui.js';

const COMMANDS: Record<string, PeerCommand> = { serve, get, shell };
const DEFAULT_COMMAND = 'shell';

const OVERVIEW = `P2FS peer: share a folder with other peers, find their files and download them.

usage: tsx scripts/peer.ts [COMMAND] [FLAGS]     (or: npm run peer -- [COMMAND] [FLAGS])

commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(6)}  ${c.summary}`).join('\n')}

With no command, the shell starts. Run a command with --help for its flags.
Exit codes: 0 success, 1 the operation failed, 2 the command line is wrong.`;

function commandHelp(command: PeerCommand): string {
  return `${command.summary}\n\nusage: tsx scripts/peer.ts ${command.usage}\n\n${describeFlags(command.flags)}${command.notes ? `\n\n${command.notes}` : ''}`;
}

/** Splits argv into the command and its own arguments (a leading flag means the default command). */
function pickCommand(argv: string[]): { name: string; rest: string[] } {
  const [first, ...rest] = argv;
  if (first === undefined || first.startsWith('-')) return { name: DEFAULT_COMMAND, rest: argv };
  return { name: first, rest };
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help')) {
    process.stdout.write(`${OVERVIEW}\n`);
    return EXIT_OK;
  }
  const { name, rest } = pickCommand(argv);
  const command = COMMANDS[name];
  if (!command) {
    const inShell = commandNames().has(name) ? `; "${name}" is a shell command: start the shell (no command) and type it there` : didYouMean(name, Object.keys(COMMANDS));
    throw new UsageError(`unknown command "${name}"${inShell}\n\n${OVERVIEW}`);
  }
  const { flags, positionals } = parseFlags(rest, command.flags, name);
  if (flags.help) {
    process.stdout.write(`${commandHelp(command)}\n`);
    return EXIT_OK;
  }
  return command.run(flags, positionals);
}

const argv = expandBareUiFlag(process.argv.slice(2));
const json = argv.includes('--json');
let code: number;
try {
  code = await main(argv);
} catch (error) {
  code = exitCodeOf(error);
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: errorAsJson(error) })}\n`);
  const text = describeError(error);
  const hint = error instanceof UsageError && !text.includes('usage:') ? '\n(run with --help for the flags)' : '';
  process.stderr.write(isExpected(error) ? `peer: ${text}${hint}\n` : `peer: internal error (please report it): ${text}\n`);
}
// Exit explicitly: sockets closed, but a stray timer must not keep a finished command alive.
process.exit(code);
