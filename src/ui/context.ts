// What every API handler gets: the peer, the UI's folders and limits, and the live feed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log/index.js';
import type { Peer } from '../peer/peer.js';
import type { DownloadControl } from './download-control.js';
import type { EventHub } from './events.js';
import type { Transfers } from './transfers.js';

export interface UiContext {
  peer: Peer;
  /** Where downloads land and are served back from. */
  downloadDir: string;
  /** Largest file the page may add to the share. */
  maxUploadBytes: number;
  /** Downloads the page starts, pauses, resumes and cancels (one per file name at a time). */
  downloads: DownloadControl;
  hub: EventHub;
  transfers: Transfers;
  logger: Logger;
}

export interface Request {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Captured groups of the route's pattern, URI-decoded. */
  params: string[];
}

/** A handler resolves with the JSON reply (status 200 unless it says otherwise), or `undefined` when it replied itself. */
export type Reply = { status?: number; body: unknown } | undefined;
export type Handler = (ctx: UiContext, request: Request) => Promise<Reply>;
