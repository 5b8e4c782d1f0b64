// Network: every registered peer (RETRIEVE-ALL, every page) and one peer's details (RETRIEVE-INFOT).
import type { Handler } from '../context.js';
import { checkFileName, checkPeerName } from '../security.js';

/** GET /api/peers */
export const listPeers: Handler = async ({ peer }) => ({ body: { self: peer.name, peers: await peer.listPeers() } });

/** GET /api/peers/NAME */
export const peerDetails: Handler = async ({ peer }, { params }) => {
  const name = checkPeerName(params[0], 'name');
  return { body: { peer: await peer.peerInfo(name) } };
};

/** GET /api/search?file=NAME (SEARCH-FILE, every page) */
export const searchFile: Handler = async ({ peer }, { url }) => {
  const file = checkFileName(url.searchParams.get('file') ?? undefined, 'file');
  return { body: { file, self: peer.name, holders: await peer.search(file) } };
};
