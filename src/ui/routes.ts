// The routing table: every endpoint of the page's API, its method, and who may call it.
//   page   – the page and its assets, and downloaded files: Host is checked
//   read   – GET /api/…: Host and the session token (header)
//   stream – the event stream: Host and the token (query: EventSource cannot send headers)
//   write  – POST /api/…: Host, the token, and our own origin
import { getStatus } from './api/status.js';
import { listFiles, publishFile, removeFile, uploadFile } from './api/files.js';
import { listPeers, networkFiles, peerDetails, searchFile, searchWords } from './api/network.js';
import { cancelDownload, listDownloads, openDownload, pauseDownload, resumeDownload, startDownload } from './api/downloads.js';
import { deregister, register, updateContact } from './api/settings.js';
import type { Handler } from './context.js';

export type Access = 'page' | 'read' | 'stream' | 'write';

export interface Route {
  method: 'GET' | 'POST';
  /** Matched against the URL's path (still percent-encoded); groups become params. */
  pattern: RegExp;
  access: Access;
  /** Named so the table reads as the API's index; `page` and `events` are served by the server itself. */
  handler: Handler | 'page' | 'asset' | 'events';
}

export const ROUTES: readonly Route[] = [
  { method: 'GET', pattern: /^\/$/, access: 'page', handler: 'page' },
  { method: 'GET', pattern: /^\/(app\.js|size\.js|style\.css|favicon\.svg)$/, access: 'page', handler: 'asset' },
  { method: 'GET', pattern: /^\/downloads\/([^/]+)$/, access: 'page', handler: openDownload },
  { method: 'GET', pattern: /^\/api\/events$/, access: 'stream', handler: 'events' },
  { method: 'GET', pattern: /^\/api\/status$/, access: 'read', handler: getStatus },
  { method: 'GET', pattern: /^\/api\/files$/, access: 'read', handler: listFiles },
  { method: 'POST', pattern: /^\/api\/files$/, access: 'write', handler: uploadFile },
  { method: 'POST', pattern: /^\/api\/files\/publish$/, access: 'write', handler: publishFile },
  { method: 'POST', pattern: /^\/api\/files\/remove$/, access: 'write', handler: removeFile },
  { method: 'GET', pattern: /^\/api\/peers$/, access: 'read', handler: listPeers },
  { method: 'GET', pattern: /^\/api\/peers\/([^/]+)$/, access: 'read', handler: peerDetails },
  { method: 'GET', pattern: /^\/api\/search$/, access: 'read', handler: searchFile },
  { method: 'GET', pattern: /^\/api\/words$/, access: 'read', handler: searchWords },
  { method: 'GET', pattern: /^\/api\/network-files$/, access: 'read', handler: networkFiles },
  { method: 'GET', pattern: /^\/api\/downloads$/, access: 'read', handler: listDownloads },
  { method: 'POST', pattern: /^\/api\/downloads$/, access: 'write', handler: startDownload },
  { method: 'POST', pattern: /^\/api\/downloads\/pause$/, access: 'write', handler: pauseDownload },
  { method: 'POST', pattern: /^\/api\/downloads\/resume$/, access: 'write', handler: resumeDownload },
  { method: 'POST', pattern: /^\/api\/downloads\/cancel$/, access: 'write', handler: cancelDownload },
  { method: 'POST', pattern: /^\/api\/contact$/, access: 'write', handler: updateContact },
  { method: 'POST', pattern: /^\/api\/deregister$/, access: 'write', handler: deregister },
  { method: 'POST', pattern: /^\/api\/register$/, access: 'write', handler: register },
];
