// `serve --ui [PORT]`: the one call that starts the page for the peer and says where it is. Its
// flags are in peer-commands.ts with the rest of serve's.
import { resolve } from 'node:path';
import type { Peer } from '../peer/peer.js';
import { startWebUi, type WebUi } from '../ui/index.js';
import { UsageError } from './errors.js';

/** Starts the page when --ui was given, and prints its address (a line of JSON with --json). */
export async function startUiFromFlags(
  peer: Peer,
  flags: { ui?: number | undefined; 'ui-host'?: string | undefined; out: string; json?: boolean },
  out: NodeJS.WritableStream,
): Promise<WebUi | undefined> {
  if (flags.ui === undefined) return undefined;
  let ui: WebUi;
  try {
    ui = await startWebUi(peer, {
      port: flags.ui,
      downloadDir: resolve(flags.out),
      ...(flags['ui-host'] ? { host: flags['ui-host'] } : {}),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`--ui ${flags.ui}: the port is in use; pick another, or give --ui alone for a free one`, false);
    if (code === 'EACCES') throw new UsageError(`--ui ${flags.ui}: not permitted to listen on this port; pick one above 1023`, false);
    if (code === 'EADDRNOTAVAIL') throw new UsageError(`--ui-host ${flags['ui-host']}: no interface of this machine has that address`, false);
    throw error;
  }
  out.write(flags.json
    ? `${JSON.stringify({ event: 'ui', url: ui.url, downloads: ui.downloadDir })}\n`
    : `web page: ${ui.url} (downloads go to ${ui.downloadDir})\n`);
  return ui;
}
