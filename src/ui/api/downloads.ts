// Downloads: start one (the Peer searches, picks holders, verifies), list them, and serve the
// finished files back from the download folder.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { DownloadInfo, DownloadEvent } from '../../peer/peer.js';
import type { Handler } from '../context.js';
import { UiError } from '../errors.js';
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
export const startDownload: Handler = async ({ peer, downloadDir, downloading }, { req }) => {
  const body = await readJson(req);
  const file = checkFileName(body.file, 'file');
  const from = body.from === undefined || body.from === null || body.from === '' ? undefined : checkPeerName(body.from, 'from');
  if (await exists(join(downloadDir, file))) {
    throw new UiError(409, 'DESTINATION_EXISTS', `${join(downloadDir, file)} already exists: open it from the finished downloads, or delete it first`, { field: 'file' });
  }
  if (downloading.has(file)) throw new UiError(409, 'CONFLICT', `${JSON.stringify(file)} is being downloaded already`, { field: 'file' });
  downloading.add(file);
  let listener: ((event: DownloadEvent) => void) | undefined;
  const started = new Promise<DownloadInfo>((resolve) => {
    listener = (event) => {
      if (event.kind === 'started' && event.download.file === file) resolve(event.download);
    };
    peer.on('download', listener);
  });
  const run = peer.download(file, { outDir: downloadDir, ...(from ? { from } : {}) });
  run.catch(() => {}).finally(() => downloading.delete(file));
  try {
    const download = await Promise.race([started, run.then(() => started)]);
    return { status: 202, body: { download: { id: download.id, file: download.file, holder: download.holder, totalBytes: download.totalBytes ?? null } } };
  } finally {
    peer.off('download', listener!);
  }
};

const exists = (path: string) => stat(path).then(() => true, () => false);

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
