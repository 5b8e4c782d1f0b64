// The peer as a library: the Peer the CLI and the GUI drive, its share folder and its errors.
export * from './peer.js';
export { PeerError, type PeerErrorCode } from './errors.js';
export { PeerDatabase, PEER_DATABASE_FILE, type Identity } from './database.js';
export { ShareFolder, SETTLE_MS, RESCAN_MS, WATCH_DEBOUNCE_MS, type ShareChange, type ShareMode, type SharedFile, type FileRecord } from './share/folder.js';
export { fileNameProblem, indexName } from './share/names.js';
export * from './places.js';
export { TokenKeeper } from './tokens.js';
export { addressTowards } from './address.js';
