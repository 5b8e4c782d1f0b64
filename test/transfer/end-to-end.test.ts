// Downloads over real TCP on 127.0.0.1 from a real file server: every kind of file arrives
// byte-identical, verified, under its own name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { downloadFile, scanFile, type SharedFile } from '../../src/transfer/index.js';
import { exchange, holderOf, sampleText, sha256, share, startServer, tempDir } from './helpers.js';

/** A guard against a hang (a socket that never closes), not a timing goal. */
const HANG_GUARD = { timeout: 120_000 };

const MIXED = 'Ünïcödé, 日本語のテキスト, emoji 😀👍🏽🇨🇦, combining e\u0301 a\u0308, "quotes" \\ back\\slash\ttab\r\n\u0000\u001f\u007f\u2028';

const cases: Array<[string, Buffer]> = [
  ['mixed.txt', Buffer.from(MIXED.repeat(40))],
  ['astral.txt', Buffer.from('😀𝄞🀄'.repeat(333))],
  ['binary.bin', randomBytes(100_003)],
  ['empty.txt', Buffer.alloc(0)],
  ['exactly-200.txt', Buffer.from('é'.repeat(200))],
  ['exactly-400.txt', Buffer.from(`${'x'.repeat(399)}😀`)],
  ['exactly-201.txt', Buffer.from('😀'.repeat(201))],
  ['binary-150.bin', Buffer.concat([Buffer.from([0xff]), randomBytes(149)])],
  ['binary-300.bin', Buffer.concat([Buffer.from([0xfe]), randomBytes(299)])],
  ['my notes – résumé.txt', Buffer.from('a name with spaces and accents\n')],
];

for (const [name, data] of cases) {
  test(`downloads ${JSON.stringify(name)} (${data.length} bytes) byte-identical`, HANG_GUARD, async (t) => {
    const shareDir = await tempDir(t);
    const outDir = await tempDir(t);
    const published = await share(shareDir, name, data);
    const server = await startServer(t, { shareDir });

    const result = await downloadFile({ file: name, holders: [holderOf(server, 'peer-a', published)], outDir, expected: published });

    assert.equal(result.path, join(outDir, name));
    assert.deepEqual(await readFile(result.path), data);
    assert.equal(result.sha256, sha256(data));
    assert.equal(result.size, data.length);
    assert.deepEqual(await readdir(outDir), [name], 'no .part or state file left behind');
  });
}

test('chunk counts: 200 characters per chunk, the last one in FILE-END', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  const expectations: Array<[string, Buffer, number, 'utf8' | 'base64']> = [
    ['e.txt', Buffer.alloc(0), 1, 'utf8'],
    ['200.txt', Buffer.from('é'.repeat(200)), 1, 'utf8'],
    ['201.txt', Buffer.from('😀'.repeat(201)), 2, 'utf8'],
    ['400.txt', Buffer.from('a'.repeat(400)), 2, 'utf8'],
    ['150.bin', Buffer.concat([Buffer.from([0xff]), randomBytes(149)]), 1, 'base64'],
    ['151.bin', Buffer.concat([Buffer.from([0xff]), randomBytes(150)]), 2, 'base64'],
  ];
  for (const [name, data] of expectations) await share(shareDir, name, data);
  const server = await startServer(t, { shareDir });
  for (const [name, data, chunks, encoding] of expectations) {
    const outDir = await tempDir(t);
    const result = await downloadFile({ file: name, holders: [holderOf(server)], outDir });
    assert.equal(result.chunks, chunks, name);
    assert.equal(result.encoding, encoding, name);
    assert.deepEqual(await readFile(result.path), data, name);
  }
});

test('a 50 MB file arrives intact', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  const outDir = await tempDir(t);
  const line = Buffer.from('The quick brown fox — jumps over the lazy dog. 速い茶色の狐 🦊\n');
  const data = Buffer.alloc(50 * 1024 * 1024);
  for (let at = 0; at < data.length; at += line.length) line.copy(data, at);
  // The fill may cut the last line mid-character: end on whole characters so it stays text.
  const text = Buffer.from(data.toString('utf8').replace(/\uFFFD+$/, ''));
  const published = await share(shareDir, 'big.txt', text);
  const server = await startServer(t, { shareDir });
  let progressCalls = 0;

  const result = await downloadFile({
    file: 'big.txt', holders: [holderOf(server, 'peer-a', published)], outDir, expected: published,
    onProgress: (progress) => {
      progressCalls++;
      assert.equal(progress.totalBytes, text.length);
      assert.ok(progress.bytes <= text.length);
    },
  });

  assert.equal(result.encoding, 'utf8');
  assert.equal(result.sha256, published.sha256);
  assert.ok(progressCalls > 1, 'progress is reported while the download runs');
  assert.ok((await readFile(result.path)).equals(text));
});

test('scanFile finds size, hash, UTF-8 and pieces in one pass; the server takes the hint instead of a pre-pass', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  const text = Buffer.from('déjà vu 😀\n'.repeat(100_000));
  const binary = Buffer.concat([text, Buffer.from([0xc3])]); // cut mid-character at the very end
  await share(shareDir, 'text.txt', text);
  await share(shareDir, 'binary.txt', binary);
  const textFacts = await scanFile(join(shareDir, 'text.txt'));
  const binaryFacts = await scanFile(join(shareDir, 'binary.txt'));
  assert.deepEqual({ size: textFacts.size, sha256: textFacts.sha256, utf8: textFacts.utf8 }, { size: text.length, sha256: sha256(text), utf8: true });
  assert.deepEqual({ size: binaryFacts.size, sha256: binaryFacts.sha256, utf8: binaryFacts.utf8 }, { size: binary.length, sha256: sha256(binary), utf8: false });
  // 1,000,000 code points of text are 5,000 chunks; the binary file's 1,500,001 bytes are 10,001 base64 chunks.
  assert.equal(textFacts.chunks, 5000);
  assert.equal(binaryFacts.chunks, Math.ceil(binary.length / 150));
  assert.equal(textFacts.tree.pieces, Math.ceil(5000 / 256));
  assert.notEqual(textFacts.piecesRoot, binaryFacts.piecesRoot);

  // A hint that says base64 is taken as is: the text file travels base64 and still arrives intact.
  const entry: SharedFile = { name: 'text.txt', path: join(shareDir, 'text.txt'), size: text.length, sha256: sha256(text), utf8: false };
  const server = await startServer(t, { shareDir, catalog: { lookup: (name) => (name === 'text.txt' ? entry : undefined) } });
  const outDir = await tempDir(t);
  const result = await downloadFile({ file: 'text.txt', outDir, holders: [holderOf(server)] });
  assert.equal(result.encoding, 'base64');
  assert.ok((await readFile(result.path)).equals(text));
});

test('a name typed in another Unicode form (NFD) finds the NFC-published file and is saved as NFC', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  const outDir = await tempDir(t);
  const name = 'café déjà vu.txt';
  await share(shareDir, name, Buffer.from('same name, two spellings\n'));
  const server = await startServer(t, { shareDir });

  const result = await downloadFile({ file: name.normalize('NFD'), outDir, holders: [holderOf(server)] });

  assert.equal(result.file, name.normalize('NFC'));
  assert.deepEqual(await readdir(outDir), [name.normalize('NFC')]);
});

test('adopt serves a connection opened elsewhere under the same rules (the seam for NAT traversal)', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  const data = sampleText(5_000);
  await share(shareDir, 'adopted.txt', data);
  const fileServer = await startServer(t, { shareDir });
  // Another listener hands its accepted socket over, as a hole-punching helper would.
  const elsewhere = createServer((socket) => fileServer.adopt(socket));
  elsewhere.listen(0, '127.0.0.1');
  await once(elsewhere, 'listening');
  t.after(() => elsewhere.close());
  const replies = await exchange(t, (elsewhere.address() as AddressInfo).port, `${JSON.stringify({ type: 'DOWNLOAD', rq: 3, file: 'adopted.txt' })}\n`);
  assert.equal(replies.at(-1)!.type, 'FILE-END');
  assert.equal(replies.at(-1)!.sha256, sha256(data));
  const refused = await exchange(t, (elsewhere.address() as AddressInfo).port, `${JSON.stringify({ type: 'DOWNLOAD', rq: 4, file: 'secret.txt' })}\n`);
  assert.deepEqual(refused, [{ type: 'DOWNLOAD-ERROR', rq: 4, reason: 'file "secret.txt" is not shared by this peer' }]);
});
