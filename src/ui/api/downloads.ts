// Downloads: start one (the Peer searches, picks holders, verifies), list them, and serve the
// finished files back from the download folder.
import { createReadStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { extname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { DownloadInfo } from '../../peer/peer.js';
import type { Handler } from '../context.js';
import { BASE_HEADERS, readJson } from '../http.js';
import { checkFileName, checkPeerName, existingFileInside } from '../security.js';

/** Files opened from the page display as these types; anything else is offered as a download. */
const INLINE_TYPES: Record<string, string> = {
  '.txt': 'text/plain; charset=utf-8', '.md': 'text/plain; charset=utf-8', '.csv': 'text/plain; charset=utf-8',
  '.json': 'application/json', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif',
  '.webp': 'image/webp', '.pdf': 'application/pdf', '.mp3': 'audio/mpeg', '.mp4': 'video/mp4',
};

/**
 * POST /api/downloads {file, from?}: replies 202 once the download has started (its id and holder),
 * or with the error that kept it from starting (nobody shares the file, the file exists…). Progress,
 * completion and failure then arrive as `download` events.
 */
export const startDownload: Handler = async ({ downloads }, { req }) => {
  const { file, from } = await fileAndHolder(req);
  return started(await downloads.start(file, from));
};

/** POST /api/downloads/pause {file}: stops it, keeping what arrived. */
export const pauseDownload: Handler = async ({ downloads }, { req }) => {
  const { file } = await fileAndHolder(req);
  await downloads.pause(file);
  return { body: { paused: file } };
};

/** POST /api/downloads/resume {file, from?}: goes on from what arrived. */
export const resumeDownload: Handler = async ({ downloads }, { req }) => {
  const { file, from } = await fileAndHolder(req);
  return started(await downloads.resume(file, from));
};

/** POST /api/downloads/cancel {file}: stops it (running or paused) and deletes what arrived. */
export const cancelDownload: Handler = async ({ downloads }, { req }) => {
  const { file } = await fileAndHolder(req);
  await downloads.cancel(file);
  return { body: { cancelled: file } };
};

async function fileAndHolder(req: IncomingMessage): Promise<{ file: string; from: string | undefined }> {
  const body = await readJson(req);
  const file = checkFileName(body.file, 'file');
  const from = body.from === undefined || body.from === null || body.from === '' ? undefined : checkPeerName(body.from, 'from');
  return { file, from };
}

const started = (download: DownloadInfo) => ({
  status: 202,
  body: { download: { id: download.id, file: download.file, holder: download.holder, totalBytes: download.totalBytes ?? null } },
});

/** GET /api/downloads */
export const listDownloads: Handler = async ({ transfers, downloadDir }) => ({ body: { downloadDir, ...transfers.list() } });

/**
 * GET /downloads/NAME: a downloaded file, opened in the browser. Sandboxed by CSP: a downloaded
 * HTML page runs no script and gets an opaque origin, so it cannot use this page's session.
 */
export const openDownload: Handler = async ({ downloadDir }, { res, params, req }) => {
  const name = checkFileName(params[0], 'name');
  const { path, size } = await existingFileInside(downloadDir, name);
  const type = INLINE_TYPES[extname(name).toLowerCase()];
  res.writeHead(200, {
    ...BASE_HEADERS,
    'Content-Type': type ?? 'application/octet-stream',
    'Content-Length': size,
    'Content-Security-Policy': "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'",
    'Content-Disposition': `${type ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(name)}`,
  });
  if (req.method === 'HEAD') {
    res.end();
    return undefined;
  }
  await pipeline(createReadStream(path), res);
  return undefined;
};
