// The one command-line parser of both programs (p2fs and p2fs-server): one table of flags per
// command, from which the parser, the environment fallbacks and --help are all made, so they cannot
// disagree. Every mistake is a UsageError naming the flag (or the variable) and the rule.
import { isIP } from 'node:net';
import { DEFAULT_PORT } from '../server/defaults.js';
import { UsageError } from './errors.js';
import { didYouMean } from './suggest.js';

export interface FlagSpec<T = unknown> {
  /** Placeholder shown in --help (`HOST:PORT`); a flag without one is a switch. */
  value?: string;
  help: string;
  /** Turns the text into a value, throwing UsageError; default keeps the string. */
  parse?: (text: string, flag: string) => T;
  /** Shorthand such as `-v`. */
  short?: string;
  /** An environment variable that stands in for the flag when it is not given. */
  env?: string;
  /** The value when neither the flag nor its variable is given, as it would be typed. */
  default?: string;
}

export type FlagSpecs = Record<string, FlagSpec>;

type Parsed<F> = F extends { parse: (text: string, flag: string) => infer R } ? R : string;

export type FlagValues<S extends FlagSpecs> = {
  [K in keyof S]: S[K] extends { value: string }
    ? S[K] extends { default: string }
      ? Parsed<S[K]>
      : Parsed<S[K]> | undefined
    : boolean;
};

export interface ParsedCommandLine<S extends FlagSpecs> {
  flags: FlagValues<S>;
  positionals: string[];
}

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Parses `--flag value`, `--flag=value`, switches, `-x` shorthands and positionals (`--` ends flags).
 * A flag not given takes its variable from `env` when set, else its default. `where` (a command's
 * name) starts the message of a mistake.
 */
export function parseFlags<S extends FlagSpecs>(argv: readonly string[], specs: S, where?: string, env: Environment = process.env): ParsedCommandLine<S> {
  const at = where === undefined ? '' : `${where}: `;
  const flags: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) if (spec.value === undefined) flags[name] = false;
  const positionals: string[] = [];
  const byShort = new Map(Object.entries(specs).filter(([, s]) => s.short).map(([name, s]) => [s.short!, name]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const [written, inline] = splitOnce(arg, '=');
    const name = written.startsWith('--') ? written.slice(2) : byShort.get(written);
    const spec = name === undefined ? undefined : specs[name];
    if (name === undefined || spec === undefined) {
      const known = Object.keys(specs).map((n) => `--${n}`);
      throw new UsageError(`${at}unknown flag ${written}${didYouMean(written, known)}`);
    }
    if (spec.value === undefined) {
      if (inline !== undefined) throw new UsageError(`${at}--${name} is a switch and takes no value`);
      flags[name] = true;
      continue;
    }
    const text = inline ?? argv[++i];
    if (text === undefined || (inline === undefined && text.startsWith('--'))) {
      throw new UsageError(`${at}--${name} needs a value (${spec.value})`);
    }
    flags[name] = spec.parse ? spec.parse(text, `--${name}`) : text;
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.value === undefined || name in flags) continue;
    const fromEnv = spec.env === undefined ? undefined : env[spec.env];
    // An empty variable counts as unset, as `P2FS_SERVER= p2fs get …` means "no server given".
    const [text, label] = fromEnv ? [fromEnv, `$${spec.env}`] : [spec.default, `--${name}`];
    if (text !== undefined) flags[name] = spec.parse ? spec.parse(text, label) : text;
  }
  return { flags: flags as FlagValues<S>, positionals };
}

/** The flags part of --help: one line per flag, aligned, with its variable and default. */
export function describeFlags(specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const left = `${spec.short ? `${spec.short}, ` : '    '}--${name}${spec.value ? ` ${spec.value}` : ''}`;
    const fallbacks = [spec.env ? `$${spec.env}` : '', spec.default === undefined ? '' : spec.default === '' ? 'none' : spec.default].filter(Boolean);
    return [left, fallbacks.length > 0 ? `${spec.help} (default: ${fallbacks.join(', else ')})` : spec.help] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, help]) => `  ${left.padEnd(width)}  ${help}`).join('\n');
}

const splitOnce = (text: string, separator: string): [string, string | undefined] => {
  const at = text.indexOf(separator);
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
};

// ---- value parsers ----------------------------------------------------------------------------

/** `HOST:PORT`, `[v6]:PORT`, or a bare host (the index server's default port, 4000). */
export function parseServer(text: string, flag: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  let host: string;
  let port: string | undefined;
  if (bracketed) [, host, port] = bracketed as unknown as [string, string, string | undefined];
  else if (isIP(text) === 6) host = text;
  else [host, port] = splitOnce(text, ':');
  if (host === '') throw new UsageError(`${flag} "${text}" needs a host, as in 192.0.2.7:4000 or localhost:4000`);
  return { host, port: port === undefined ? DEFAULT_PORT : parsePort(port, flag) };
}

/** `HOST:PORT,HOST:PORT,…`: the servers of one registry, the first preferred. */
export function parseServers(text: string, flag: string): Array<{ host: string; port: number }> {
  const servers = text.split(',').map((one) => parseServer(one.trim(), flag));
  const labels = servers.map(({ host, port }) => `${host}:${port}`);
  const twice = labels.find((label, i) => labels.indexOf(label) !== i);
  if (twice) throw new UsageError(`${flag} names ${twice} twice`);
  return servers;
}

export function parsePort(text: string, flag: string): number {
  return parseInteger(text, flag, 1, 65535, 'a port from 1 to 65535');
}

/** Like parsePort but 0 (any free port) is allowed. */
export function parseBindPort(text: string, flag: string): number {
  return parseInteger(text, flag, 0, 65535, 'a port from 0 (any free one) to 65535');
}

/** `HOST:PORT` to listen on (metrics): an IP literal, and a port where 0 picks a free one. */
export function parseListenAddress(text: string, flag: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  if (!match || host === undefined || !isIP(host)) {
    throw new UsageError(`${flag} must be IP:PORT to listen on, such as 127.0.0.1:9400 or [::]:9400; got "${text}"`);
  }
  return { host, port: parseBindPort(match[3]!, flag) };
}

export function parseCount(text: string, flag: string): number {
  return parseInteger(text, flag, 0, 1000, 'a whole number from 0 to 1000');
}

export function parsePositive(text: string, flag: string): number {
  return parseInteger(text, flag, 1, 100_000, 'a whole number from 1 to 100000');
}

/** A parser for whole numbers from min to max. */
export const integerFrom = (min: number, max: number) => (text: string, flag: string): number =>
  parseInteger(text, flag, min, max, `a whole number from ${min} to ${max}`);

/** Milliseconds: `500`, `500ms`, `1.5s`. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  const ms = match ? Number(match[1]) * (match[2] === 's' ? 1000 : 1) : NaN;
  if (!Number.isFinite(ms) || ms < 1 || ms > 600_000) {
    throw new UsageError(`${flag} must be a duration from 1ms to 600s, such as 500, 500ms or 1.5s; got "${text}"`);
  }
  return Math.round(ms);
}

export function parseIp(text: string, flag: string): string {
  if (!isIP(text)) throw new UsageError(`${flag} must be an IPv4 or IPv6 address such as 192.0.2.7 or 2001:db8::7; got "${text}"`);
  return text;
}

/** A parser accepting only the listed words. */
export const oneOf = <W extends string>(words: readonly W[]) => (text: string, flag: string): W => {
  if (!(words as readonly string[]).includes(text)) throw new UsageError(`${flag} must be one of ${words.join(', ')}; got "${text}"`);
  return text as W;
};

function parseInteger(text: string, flag: string, min: number, max: number, rule: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new UsageError(`${flag} must be ${rule}; got "${text}"`);
  return value;
}
