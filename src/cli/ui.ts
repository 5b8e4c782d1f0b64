// The `--ui [PORT]` flags of `serve`: the flag table the serve command spreads into its own, and
// the one call that starts the page for the running peer and says where it is.
import { UsageError } from './errors.js';
import { parseBindPort, parseIp } from './flags.js';
import type { Peer } from '../peer/peer.js';
import { startWebUi, type WebUi } from '../ui/index.js';

export const UI_FLAGS = {
  ui: { value: 'PORT', help: 'also serve a web page for this peer on PORT (--ui alone: any free port, printed)', parse: parseBindPort },
  'ui-host': { value: 'IP', help: 'address the web page listens on (default 127.0.0.1: this machine only)', parse: parseIp },
  'ui-downloads': { value: 'DIR', help: 'where downloads from the web page go (default DIR/downloads, not shared)' },
};

/**
 * `--ui` takes an optional port: a bare `--ui` (last, or followed by another flag) becomes
 * `--ui=0`, a free port, before the command line is parsed.
 */
export function expandBareUiFlag(argv: readonly string[]): string[] {
  return argv.map((arg, i) => (arg === '--ui' && (i === argv.length - 1 || argv[i + 1]!.startsWith('-')) ? '--ui=0' : arg));
}

/** Starts the page when --ui was given, and prints its address (a line of JSON with --json). */
export async function startUiFromFlags(
  peer: Peer,
  flags: { ui?: number; 'ui-host'?: string; 'ui-downloads'?: string; json?: boolean },
  out: NodeJS.WritableStream,
): Promise<WebUi | undefined> {
  if (flags.ui === undefined) return undefined;
  let ui: WebUi;
  try {
    ui = await startWebUi(peer, {
      port: flags.ui,
      ...(flags['ui-host'] ? { host: flags['ui-host'] } : {}),
      ...(flags['ui-downloads'] ? { downloadDir: flags['ui-downloads'] } : {}),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`--ui ${flags.ui}: the port is in use; pick another, or give --ui alone for a free one`);
    if (code === 'EACCES') throw new UsageError(`--ui ${flags.ui}: not permitted to listen on this port; pick one above 1023`);
    if (code === 'EADDRNOTAVAIL') throw new UsageError(`--ui-host ${flags['ui-host']}: no interface of this machine has that address`);
    throw error;
  }
  out.write(flags.json
    ? `${JSON.stringify({ event: 'ui', url: ui.url, downloads: ui.downloadDir })}\n`
    : `web page: ${ui.url} (downloads go to ${ui.downloadDir})\n`);
  return ui;
}
