// How the shared flags of the peer's commands become PeerOptions: the server, identity, retries,
// the logger, the state folder that keeps registration tokens per name, and the download folder.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { RetryPolicy } from '../client/index.js';
import { createLogger, type Logger } from '../log/index.js';
import type { PeerOptions } from '../peer/peer.js';
import { stateFolder } from '../peer/places.js';
import { TokenKeeper } from '../peer/tokens.js';
import { UsageError } from './errors.js';
import type { FlagValues } from './flags.js';
import type { COMMON_FLAGS, NETWORK_FLAGS } from './peer-commands.js';

type CommonFlags = FlagValues<typeof COMMON_FLAGS> & Partial<FlagValues<typeof NETWORK_FLAGS>>;

export function retryFrom(flags: CommonFlags): Partial<RetryPolicy> {
  return {
    ...(flags.retries === undefined ? {} : { attempts: flags.retries + 1 }),
    ...(flags.timeout === undefined ? {} : { firstTimeoutMs: flags.timeout }),
  };
}

export function loggerFrom(flags: CommonFlags, role: string): Logger {
  return createLogger({ level: flags['log-level'], stream: process.stderr }).child({ role });
}

/** The PeerOptions every command builds from the shared flags. */
export function peerOptionsFrom(flags: CommonFlags, role: string): PeerOptions {
  const state = stateFolder();
  return {
    server: flags.server,
    ...(flags.name === undefined ? {} : { name: flags.name }),
    ...(flags.host === undefined ? {} : { host: flags.host }),
    ...(flags['tcp-port'] === undefined ? {} : { tcpPort: flags['tcp-port'] }),
    ...(flags['udp-port'] === undefined ? {} : { udpPort: flags['udp-port'] }),
    ...(state === undefined ? {} : { tokens: new TokenKeeper(state) }),
    retry: retryFrom(flags),
    logger: loggerFrom(flags, role),
  };
}

/** A download folder (--out) as an absolute path; refused up front when it names a file. Created when first used. */
export async function downloadFolder(out: string, flag = '--out'): Promise<string> {
  const dir = resolve(out);
  const found = await stat(dir).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOTDIR' ? 'under-a-file' : undefined));
  if (found === 'under-a-file' || (found && !found.isDirectory())) {
    throw new UsageError(`${flag} ${out} is not a folder (a file is in the way); name a folder, which is created if missing`, false);
  }
  return dir;
}
