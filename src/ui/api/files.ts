// My files: the share folder's files, publish/remove one, and add one from the page.
import { randomBytes } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { copyFile, link, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { PeerError } from '../../peer/errors.js';
import type { Peer } from '../../peer/peer.js';
import { fromIndexServer } from '../answer-deadline.js';
import type { Handler } from '../context.js';
import { UiError } from '../errors.js';
import { checkDeclaredLength, mediaType, readJson, tooLarge } from '../http.js';
import { checkFileName, pathInside } from '../security.js';

/** A new file may still be settling when publish first looks: try again this often, this many times. */
const PUBLISH_RETRY_MS = 200;
const PUBLISH_TRIES = 15;

export function filesView(peer: Peer) {
  return peer.shareableFiles().map(({ name, size, sha256 }) => ({
    name, size, sha256, shared: peer.share?.lookup(name) !== undefined,
  }));
}

/** GET /api/files */
export const listFiles: Handler = async ({ peer }) => ({ body: { shareDir: peer.share?.dir ?? null, files: filesView(peer) } });

/** POST /api/files/publish {name} */
export const publishFile: Handler = async ({ peer }, { req }) => {
  const name = checkFileName((await readJson(req)).name, 'name');
  const published = await fromIndexServer(peer, peer.publish([name]));
  return { body: { published, files: filesView(peer) } };
};

/** POST /api/files/remove {name} */
export const removeFile: Handler = async ({ peer }, { req }) => {
  const name = checkFileName((await readJson(req)).name, 'name');
  await fromIndexServer(peer, peer.remove([name]));
  return { body: { removed: name, files: filesView(peer) } };
};

/**
 * POST /api/files?name=NAME with the file's bytes (application/octet-stream): written to a hidden
 * temporary file in the share (never shared), linked into place only if the name is free, then published.
 */
export const uploadFile: Handler = async ({ peer, maxUploadBytes }, { req, url }) => {
  const name = checkFileName(url.searchParams.get('name') ?? undefined, 'name');
  if (mediaType(req) !== 'application/octet-stream') {
    throw new UiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'a file is sent as its bytes with Content-Type: application/octet-stream');
  }
  checkDeclaredLength(req, maxUploadBytes);
  const share = peer.share;
  if (!share) throw new PeerError('NO_SHARE', 'this peer has no share folder: start it with --share DIR');
  if (peer.registration === 'unregistered') throw new PeerError('NOT_REGISTERED', 'register first: a file added now could not be published');
  const destination = await pathInside(share.dir, name);
  const temporary = join(share.dir, `.p2fs-upload-${randomBytes(8).toString('hex')}`);
  let size = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.byteLength;
      done(size > maxUploadBytes ? tooLarge(maxUploadBytes) : null, chunk);
    },
  });
  try {
    await pipeline(req, limit, createWriteStream(temporary, { flags: 'wx', mode: 0o644 }));
    await placeWithoutReplacing(temporary, destination).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') throw new UiError(409, 'CONFLICT', `the share already has a file named ${JSON.stringify(name)}`, { field: 'name' });
      throw error;
    });
  } finally {
    await unlink(temporary).catch(() => {});
  }
  const published = await publishWhenSettled(peer, name);
  return { status: 201, body: { added: name, size, published, files: filesView(peer) } };
};

/**
 * Puts the finished temporary file at `destination` unless something is there already (EEXIST),
 * atomically: a hard link where the file system has them, else an exclusive copy.
 */
async function placeWithoutReplacing(temporary: string, destination: string): Promise<void> {
  try {
    await link(temporary, destination);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    await copyFile(temporary, destination, constants.COPYFILE_EXCL);
  }
}

/** The share folder waits until a new file has settled before hashing it: publish once it has. */
async function publishWhenSettled(peer: Peer, name: string) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fromIndexServer(peer, peer.publish([name]));
    } catch (error) {
      if (!(error instanceof PeerError && error.code === 'NOT_IN_SHARE') || attempt >= PUBLISH_TRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, PUBLISH_RETRY_MS));
    }
  }
}
