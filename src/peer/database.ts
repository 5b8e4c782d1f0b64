// The peer's own small database (the seed asks for one): what it knows of its files, what it chose
// to share, and its identity and token, so that a restart neither re-hashes unchanged files nor
// loses its registration. By default a SQLite file inside the share folder's .p2fs/ (never shared).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openStore, type DurableMap } from '../stores/index.js';
import { PeerError } from './errors.js';
import type { FileRecord, ShareChoice } from './share/folder.js';
import { PEER_DATA_FOLDER } from './places.js';

export const PEER_DATABASE_FILE = 'peer.sqlite';

/** Who this peer was at its last run. The token is only good on the server that issued it. */
export interface Identity {
  name: string;
  server: string;
  token: string;
}

export class PeerDatabase {
  private constructor(
    readonly description: string,
    readonly files: DurableMap<FileRecord>,
    readonly choices: DurableMap<ShareChoice>,
    private readonly identity: DurableMap<Identity>,
  ) {}

  /** The default database of a share folder: sqlite://<dir>/.p2fs/peer.sqlite (.p2fs is created). */
  static async urlFor(shareDir: string): Promise<string> {
    const folder = join(shareDir, PEER_DATA_FOLDER);
    try {
      await mkdir(folder);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Never create the share folder itself: a typo in --share must not quietly share an empty folder.
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new PeerError('BAD_SHARE', `cannot share ${shareDir}: it is not an existing folder`);
      if (code === 'EACCES' || code === 'EROFS') {
        throw new PeerError('BAD_SHARE', `cannot create ${folder} for the peer's database (${code}); give --db URL to keep it elsewhere`);
      }
      if (code !== 'EEXIST') throw error;
    }
    return `sqlite://${join(folder, PEER_DATABASE_FILE)}`;
  }

  /** Opens any store URL (memory:// for a peer without a share folder). */
  static async open(url: string): Promise<PeerDatabase> {
    // One store per namespace: two namespaces on one keyv SQLite instance leak keys into each other.
    // Opened one after another: three connections switching one new file to WAL at once can find it
    // locked (SQLITE_BUSY).
    const files = await openStore<FileRecord>(url, 'peer-files');
    const choices = await openStore<ShareChoice>(url, 'peer-choices');
    const identity = await openStore<Identity>(url, 'peer-identity');
    return new PeerDatabase(files.description, files, choices, identity);
  }

  async loadIdentity(): Promise<Identity | undefined> {
    return this.identity.get('self');
  }

  async saveIdentity(identity: Identity): Promise<void> {
    await this.identity.set('self', identity);
  }

  async forgetToken(): Promise<void> {
    const identity = await this.loadIdentity();
    if (identity) await this.identity.set('self', { ...identity, token: '' });
  }

  async close(): Promise<void> {
    await Promise.all([this.files.close(), this.choices.close(), this.identity.close()]);
  }
}
