// GET /api/status: the peer at a glance.
import type { Peer } from '../../peer/peer.js';
import { fromIndexServer } from '../answer-deadline.js';
import type { Handler } from '../context.js';
import { UiError } from '../errors.js';

/** Heard from the index server this recently: it answers. */
const ANSWERED_RECENTLY_MS = 120_000;

export function statusView(peer: Peer, downloadDir: string, serverAnswers?: boolean) {
  const status = peer.status();
  const heard = status.lastHeardFromServer;
  const answers = serverAnswers
    ?? (status.registration === 'unreachable' ? false
      : heard && Date.now() - heard.getTime() < ANSWERED_RECENTLY_MS ? true : null);
  return {
    name: status.name,
    server: status.server,
    serverAnswers: answers,
    lastHeardFromServer: heard?.toISOString() ?? null,
    registration: status.registration,
    contact: status.contact,
    tcpAddress: status.tcpAddress,
    shareDir: status.shareDir ?? null,
    downloadDir,
    sharedFiles: status.sharedFiles,
    uploads: status.uploads.length,
    downloads: status.downloads.length,
  };
}

/**
 * `?check=1` asks the server now (peer.checkServer) instead of judging by the last answer: false
 * after the page's deadline of silence, not after the client's every retry.
 */
export const getStatus: Handler = async ({ peer, downloadDir }, { url }) => {
  const check = url.searchParams.get('check') === '1'
    ? await fromIndexServer(peer, peer.checkServer()).catch((error: unknown) => {
      if (error instanceof UiError && error.code === 'SERVER_SILENT') return false;
      throw error;
    })
    : undefined;
  return { body: statusView(peer, downloadDir, check) };
};
