// Results as people read them: aligned tables, sizes in KB/MB, and one line per message crossing
// the wire for --verbose (tokens shortened: they are secrets).
import { redactToken, type MessageSeen } from '../client/index.js';
import type { FileEntry, FileHolder, PeerListing, WordMatch } from '../generated/types.js';
import type { PeerInfo } from '../client/index.js';

/** Columns aligned by characters as a terminal shows them (wide CJK and emoji take two cells). */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(cells(h), ...rows.map((r) => cells(r[i] ?? ''))));
  const line = (row: readonly string[]) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - cells(cell)))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Who a download came from: `alice`, or `alice (1.20 MB), bob (800 kB)` from several. */
export function fromHolders(result: { holder: string; bytesByHolder: Record<string, number> }): string {
  const sent = Object.entries(result.bytesByHolder).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  if (sent.length <= 1) return sent[0]?.[0] ?? result.holder;
  return sent.map(([name, n]) => `${name} (${bytes(n)})`).join(', ');
}

export function bytes(n: number | undefined): string {
  if (n === undefined) return '?';
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = n / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) [value, unit] = [value / 1000, unit + 1];
  return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${units[unit]}`;
}

export function seconds(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

const shortHash = (sha?: string) => (sha ? `${sha.slice(0, 12)}…` : '');

export function peersTable(peers: readonly PeerListing[]): string {
  if (peers.length === 0) return 'no peers registered';
  const rows = peers.map((p) => [p.name, hostPort(p.ip, p.tcpPort), String(p.files.length), fileNames(p.files)]);
  return table(['peer', 'tcp address', 'files', 'names'], rows);
}

export function peerInfoTable(info: PeerInfo): string {
  const head = `${info.name} at ${hostPort(info.ip, info.tcpPort)} shares ${info.files.length} file${info.files.length === 1 ? '' : 's'}`;
  return info.files.length === 0 ? head : `${head}\n${filesTable(info.files)}`;
}

export function filesTable(files: readonly FileEntry[]): string {
  return table(['file', 'size', 'sha256'], files.map((f) => [f.name, bytes(f.size), shortHash(f.sha256)]));
}

export function holdersTable(file: string, holders: readonly FileHolder[]): string {
  if (holders.length === 0) return `nobody shares ${JSON.stringify(file)}`;
  const rows = holders.map((h) => [h.name, hostPort(h.ip, h.tcpPort), bytes(h.size), shortHash(h.sha256)]);
  return `${JSON.stringify(file)} is shared by ${holders.length} peer${holders.length === 1 ? '' : 's'}\n${table(['peer', 'tcp address', 'size', 'sha256'], rows)}`;
}

export function wordMatchesTable(words: string, files: readonly WordMatch[]): string {
  if (files.length === 0) return `no shared file name holds every word of ${JSON.stringify(words)}`;
  const rows = files.map((f) => [f.name, String(f.holders), bytes(f.size), shortHash(f.sha256)]);
  return `${files.length} file${files.length === 1 ? '' : 's'} found, best match first\n${table(['file', 'peers', 'size', 'sha256'], rows)}`;
}

/** `→ REGISTER {"rq":7,…}` — one line per UDP message, for --verbose and the demo. */
export function messageLine(seen: MessageSeen): string {
  const { type, rq, ...rest } = redactToken(seen.message) as { type: string; rq: number | null };
  const arrow = seen.direction === 'sent' ? '→' : '←';
  const retry = seen.attempt && seen.attempt > 1 ? ` (try ${seen.attempt})` : '';
  const ignored = seen.ignored ? ` (ignored: ${seen.ignored})` : '';
  return `${arrow} ${type}${retry} ${JSON.stringify({ rq, ...rest })}${ignored}`;
}

export function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function fileNames(files: readonly FileEntry[]): string {
  const MAX_SHOWN = 4;
  const names = files.slice(0, MAX_SHOWN).map((f) => f.name).join(', ');
  return files.length > MAX_SHOWN ? `${names}, … (+${files.length - MAX_SHOWN})` : names;
}

/** Terminal cells of a string: East Asian wide characters and emoji take two. */
function cells(text: string): number {
  let width = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code < 0x20 || (code >= 0x300 && code <= 0x36f)) continue; // control, combining marks
    width += isWide(code) ? 2 : 1;
  }
  return width;
}

function isWide(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  );
}
