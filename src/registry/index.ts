// The registry: the index server's model of peers and their files, written through to a durable store.
export { canonicalIp, contactKey, isUnspecified, showContact, type UdpContact } from './addresses.js';
export { RegistryError, type RegistryErrorCode } from './errors.js';
export type { PeerContact, PeerView, StoredPeer } from './record.js';
export {
  MAX_FILES_PER_PEER, Registry,
  type Credentials, type RegistryOptions, type RegistrySnapshot, type RegistryStore,
} from './registry.js';
export { foldText, wordsOf } from './words/fold.js';
export { Matches, MAX_MATCHES, MAX_NAMES_SCANNED, MAX_QUERY_WORDS, type QueryRefusal } from './words/word-index.js';
