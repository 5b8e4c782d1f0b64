// How long the page waits for the index server. The peer's client keeps trying for 11.5 s (seven
// tries, src/client/retry.ts), right for a command at a prompt; a person clicking a button is told
// after 2 s of silence that the server does not answer, and gets a Retry. The request goes on behind:
// a late answer still lands (a publish still publishes), and the next click starts afresh.
import type { Peer } from '../peer/peer.js';
import { UiError } from './errors.js';
import { plainWords } from './plain-words.js';

/** Silence from the index server the page accepts before it says so. */
export const SERVER_SILENCE_MS = 2_000;

/**
 * `work`'s outcome, or SERVER_SILENT once the index server has been silent for `silenceMs` since the
 * work began. A server that answers (a long list, page after page) is waited for as long as it does.
 */
export function fromIndexServer<T>(peer: Peer, work: Promise<T>, silenceMs = SERVER_SILENCE_MS): Promise<T> {
  const began = Date.now();
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout;
    const check = () => {
      const heard = lastHeard(peer);
      const since = Math.max(began, heard);
      const silent = Date.now() - since;
      if (silent < silenceMs) {
        timer = setTimeout(check, silenceMs - silent);
        return;
      }
      reject(new UiError(504, 'SERVER_SILENT', plainWords({ code: 'SERVER_SILENT', message: '', server: serverOf(peer) }), { silentMs: silent }));
    };
    timer = setTimeout(check, silenceMs);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function lastHeard(peer: Peer): number {
  try {
    return peer.status().lastHeardFromServer?.getTime() ?? 0;
  } catch {
    return 0; // a stopped peer hears nothing
  }
}

function serverOf(peer: Peer): string | undefined {
  try {
    return peer.status().server;
  } catch {
    return undefined;
  }
}
