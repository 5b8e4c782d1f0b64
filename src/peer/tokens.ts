// Registration tokens kept per index server and name in the peer's state folder. A run that ends
// without de-registering (kill -9, a crash, a lost network) leaves its name registered until the
// server expires it; the next run on this machine under that name sends the kept token and the
// server hands the name back at once, instead of refusing it for minutes.
//
// One small file per server and name, replaced by rename: runs under other names never touch each
// other's file, and a run killed mid-write leaves the old token or the new one, never half of one.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export class TokenKeeper {
  constructor(
    /** The state folder (places.ts); tokens go in its tokens/ subfolder. */
    readonly folder: string,
  ) {}

  /** The token kept for `name` on `server` (`host:port`), if any. */
  async get(server: string, name: string): Promise<string | undefined> {
    try {
      const token = (await readFile(this.pathOf(server, name), 'utf8')).trim();
      return /^[0-9a-f]{16,128}$/.test(token) ? token : undefined;
    } catch {
      return undefined; // none kept (or unreadable: the server then decides, as for a first run)
    }
  }

  /** Keeps the token REGISTERED gave; readable by this user only (it proves the registration). */
  async keep(server: string, name: string, token: string): Promise<void> {
    const path = this.pathOf(server, name);
    await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, `${token}\n`, { mode: 0o600 });
    await rename(temporary, path);
  }

  /** Forgets the token once the name is de-registered. */
  async forget(server: string, name: string): Promise<void> {
    await rm(this.pathOf(server, name), { force: true });
  }

  /**
   * tokens/<server>/<name>.token: the server part is percent-encoded (`[::1]:4000` has characters
   * some file systems refuse), and a peer name (letters, digits, '.', '_', '-') is safe as it is once
   * suffixed, even `.` and `..`.
   */
  private pathOf(server: string, name: string): string {
    return join(this.folder, 'tokens', encodeURIComponent(server), `${name}.token`);
  }
}
