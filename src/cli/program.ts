// What both programs (p2fs, the peer, and p2fs-server, the index server) do around their commands:
// --help and --version, one parser for every command's flags (flags.ts), a failure told as one
// sentence on stderr (never a stack trace for an error the program expects), and the exit code.
// Light on purpose: --version and --help load nothing but this, the flag tables and the parser; a
// command's own code is imported only when it runs.
import { describeError, errorAsJson, exitCodeOf, isExpected, UsageError } from './errors.js';
import { describeFlags, parseFlags, type FlagSpecs, type FlagValues } from './flags.js';
import { packageVersion } from './version.js';

export interface CommandSpec<S extends FlagSpecs = FlagSpecs> {
  /** One line: what the command does. */
  summary: string;
  /** What follows the program's name: `get FILE [--out DIR]`. */
  usage: string;
  /** Said after the flags in --help. */
  notes?: string;
  flags: S;
}

/** Switches every command has, added to its own table. */
export const STANDARD_FLAGS = {
  help: { short: '-h', help: 'show this help' },
  version: { short: '-V', help: 'print the version' },
} satisfies FlagSpecs;

export type CommandFlags<S extends FlagSpecs> = FlagValues<S & typeof STANDARD_FLAGS>;

/** A command whose code is imported only when it runs. */
export interface Command<S extends FlagSpecs = FlagSpecs> extends CommandSpec<S> {
  load(): Promise<{ run(flags: CommandFlags<S>, args: string[]): Promise<number> }>;
}

/** A table row: the spec, and the module that runs it (type-checked against the spec's flags). */
export const command = <S extends FlagSpecs>(spec: CommandSpec<S>, load: Command<S>['load']): Command =>
  ({ ...spec, load }) as unknown as Command;

export const versionLine = (program: string): string => `${program} ${packageVersion()}`;

export function commandHelp(program: string, spec: CommandSpec): string {
  const flags = describeFlags({ ...spec.flags, ...STANDARD_FLAGS });
  return `${spec.summary}\n\nusage: ${program} ${spec.usage}\n\n${flags}${spec.notes ? `\n\n${spec.notes}` : ''}`;
}

/**
 * A command's flags and arguments; undefined when the line asked for --help or --version, which
 * are answered here (on stdout).
 */
export function parseCommand<S extends FlagSpecs>(
  program: string, spec: CommandSpec<S>, argv: readonly string[], where?: string,
): { flags: CommandFlags<S>; args: string[] } | undefined {
  const { flags, positionals } = parseFlags(argv, { ...spec.flags, ...STANDARD_FLAGS }, where);
  if (flags.help) process.stdout.write(`${commandHelp(program, spec)}\n`);
  else if (flags.version) process.stdout.write(`${versionLine(program)}\n`);
  else return { flags: flags as CommandFlags<S>, args: positionals };
  return undefined;
}

/** `--help`, `-h`, `--version` or `-V` as the whole command line (before any command is chosen). */
export function answersAlone(program: string, argv: readonly string[], overview: () => string): boolean {
  if (argv.length !== 1) return false;
  const [only] = argv;
  if (only === '--version' || only === '-V') process.stdout.write(`${versionLine(program)}\n`);
  else if (only === '--help' || only === '-h' || only === 'help') process.stdout.write(`${overview()}\n`);
  else return false;
  return true;
}

/**
 * Runs a program's main and exits with its code. A failure is told on stderr as `program: …`, a
 * sentence for the errors the program expects, the stack for a bug; with --json it is also a JSON
 * line on stdout. A usage mistake exits 2, any other failure 1.
 */
export async function runProgram(program: string, main: (argv: string[]) => Promise<number>, argv = process.argv.slice(2)): Promise<never> {
  let code: number;
  try {
    code = await main(argv);
  } catch (error) {
    code = exitCodeOf(error);
    if (argv.includes('--json')) process.stdout.write(`${JSON.stringify({ ok: false, error: errorAsJson(error) })}\n`);
    const text = describeError(error);
    const hint = error instanceof UsageError && error.helpWouldHelp ? '\n(run with --help for the flags)' : '';
    process.stderr.write(isExpected(error) ? `${program}: ${text}${hint}\n` : `${program}: internal error (please report it): ${text}\n`);
  }
  // Exit explicitly: sockets closed, but a stray timer must not keep a finished command alive.
  process.exit(code);
}
