// The share folder kept in step with the index: files added, deleted and changed while the peer
// runs reach the server; a restart re-hashes only what changed; odd names are skipped, not fatal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestnet, nextEvent } from '../helpers/testnet.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

test('files added, deleted and changed while serving are published, removed and republished', async (t) => {
  const net = await startTestnet(t, { peers: [{ files: { 'a.txt': 'alpha', 'b.txt': 'beta' } }] });
  const [{ peer, name, share }] = net.peers as [typeof net.peers[0]];
  const listed = () => Object.fromEntries([...net.server.registry.peer(name)!.files.values()].map((f) => [f.name, f.sha256]));
  assert.deepEqual(listed(), { 'a.txt': sha('alpha'), 'b.txt': sha('beta') });

  let change = nextEvent(peer, 'share', (c) => c.publish.some((f) => f.name === 'c.txt'));
  await writeFile(join(share, 'c.txt'), 'gamma');
  await change;
  assert.equal(listed()['c.txt'], sha('gamma'));

  change = nextEvent(peer, 'share', (c) => c.remove.includes('a.txt'));
  await rm(join(share, 'a.txt'));
  await change;
  assert.equal(listed()['a.txt'], undefined);

  change = nextEvent(peer, 'share', (c) => c.publish.some((f) => f.name === 'b.txt'));
  await writeFile(join(share, 'b.txt'), 'beta, second edition');
  await change;
  assert.deepEqual(listed(), { 'b.txt': sha('beta, second edition'), 'c.txt': sha('gamma') });
  assert.equal(net.server.registry.peer(name)!.files.get('b.txt')!.size, 'beta, second edition'.length);
});

test('a restart on the same folder hashes only the files that changed, and the index catches up', async (t) => {
  const net = await startTestnet(t);
  const first = await net.addPeer({ files: { 'keep.txt': 'unchanged', 'edit.txt': 'before', 'gone.txt': 'bye' } });
  assert.equal(first.peer.share!.hashCount, 3);
  await first.peer.stop();

  // While the peer is down: one file edited, one deleted, one added.
  await writeFile(join(first.share, 'edit.txt'), 'after the edit');
  await utimes(join(first.share, 'edit.txt'), new Date(), new Date(Date.now() - 60_000));
  await rm(join(first.share, 'gone.txt'));
  await writeFile(join(first.share, 'new.txt'), 'fresh');
  await utimes(join(first.share, 'new.txt'), new Date(), new Date(Date.now() - 60_000));

  const hashed: string[] = [];
  const again = await net.openPeer({ share: first.share, onHash: (file) => hashed.push(file.name) });
  assert.equal(again.name, first.name, 'the name comes back from the peer database');
  assert.deepEqual(hashed.sort(), ['edit.txt', 'new.txt']);
  await again.register();
  const files = net.server.registry.peer(first.name)!.files;
  assert.deepEqual([...files.keys()].sort(), ['edit.txt', 'keep.txt', 'new.txt']);
  assert.equal(files.get('edit.txt')!.sha256, sha('after the edit'));
});

test('hidden files, partial downloads, subfolders, links out and bad names are not shared', async (t) => {
  const net = await startTestnet(t);
  const spec = { files: { 'ok.txt': 'fine', '.hidden': 'no', 'movie.mkv.part': 'partial', 'tab\there.txt': 'control char' } };
  const added = await net.addPeer({ ...spec, register: false });
  await mkdir(join(added.share, 'sub'));
  await writeFile(join(added.share, 'sub', 'inner.txt'), 'not shared');
  await writeFile(join(added.downloads, 'secret.txt'), 'outside the share');
  await symlink(join(added.downloads, 'secret.txt'), join(added.share, 'link-out'));
  await symlink(join(added.share, 'ok.txt'), join(added.share, 'link-in.txt'));
  await added.peer.share!.sync();
  await added.peer.register();
  const names = [...net.server.registry.peer(added.name)!.files.keys()].sort();
  assert.deepEqual(names, ['link-in.txt', 'ok.txt']);
});

test('names are published NFC-normalised and served from their real on-disk name', async (t) => {
  const nfd = 'cafe\u0301.txt';
  const net = await startTestnet(t, { peers: [{ files: { [nfd]: 'accents' } }] });
  const [{ peer, name }] = net.peers as [typeof net.peers[0]];
  assert.deepEqual([...net.server.registry.peer(name)!.files.keys()], ['caf\u00e9.txt']);
  const served = peer.share!.lookup('caf\u00e9.txt');
  assert.ok(served);
  assert.ok(served.path.endsWith(nfd), 'the file server opens the on-disk (NFD) name');
});
