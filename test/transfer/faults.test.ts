// Holders that die, stall or lie, and a downloader killed mid-file: the download either completes
// verified (resuming where it can) or fails cleanly, leaving nothing at the destination name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { downloadFile, DownloadError, partPathsFor } from '../../src/transfer/index.js';
import {
  framesFor, holderOf, kill9, nextLine, sampleText, sha256, share, startFakeHolder, startFixture, startServer, tempDir,
} from './helpers.js';

/** A guard against a hang (a socket that never closes), not a timing goal. */
const HANG_GUARD = { timeout: 120_000 };

/** The download child's holder list: one holder on 127.0.0.1 at `port`. */
const onlyHolder = (port: number) => JSON.stringify([{ name: 'holder', ip: '127.0.0.1', tcpPort: port }]);

test('the uploading peer is killed -9 mid-transfer: the download resumes at the next holder', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  const outDir = await tempDir(t);
  const data = sampleText(32 * 1024 * 1024);
  const published = await share(shareDir, 'big.txt', data);
  const doomed = startFixture(t, 'serve-share.ts', [shareDir]);
  const { port } = await nextLine<{ port: number }>(doomed.lines);
  const starts: number[] = [];
  const backup = await startServer(t, { shareDir, onUpload: (event) => event.kind === 'started' && starts.push(event.upload.fromChunk) });

  let killed: Promise<void> | undefined;
  const result = await downloadFile({
    file: 'big.txt', outDir, expected: published,
    holders: [{ name: 'doomed', ip: '127.0.0.1', tcpPort: port }, holderOf(backup, 'backup')],
    // The socket is paused while this runs: the kill lands with most of the file still unsent.
    onProgress: (progress) => {
      if (progress.holder === 'doomed') killed ??= kill9(doomed.child);
    },
  });
  await killed;

  assert.equal(result.holder, 'backup');
  assert.equal(result.attempts.length, 1);
  assert.equal(result.attempts[0]!.code, 'CLOSED_EARLY');
  assert.ok(result.attempts[0]!.chunksReceived > 0);
  assert.deepEqual(starts, [result.attempts[0]!.chunksReceived + 1], 'the backup was asked for the chunk after the last verified one');
  assert.ok((await readFile(result.path)).equals(data));
});

test('the only holder is killed -9 mid-transfer: a clean failure, nothing left behind', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  const outDir = await tempDir(t);
  const data = sampleText(32 * 1024 * 1024);
  await share(shareDir, 'big.txt', data);
  const doomed = startFixture(t, 'serve-share.ts', [shareDir]);
  const { port } = await nextLine<{ port: number }>(doomed.lines);

  let killed: Promise<void> | undefined;
  const failure = await downloadFile({
    file: 'big.txt', outDir, holders: [{ name: 'doomed', ip: '127.0.0.1', tcpPort: port }],
    onProgress: () => {
      killed ??= kill9(doomed.child);
    },
  }).catch((error: unknown) => error);
  await killed;

  assert.ok(failure instanceof DownloadError);
  assert.equal(failure.code, 'ALL_HOLDERS_FAILED');
  assert.match(failure.message, /could not download "big.txt": tried doomed \(127\.0\.0\.1:\d+\): (closed the connection|connection failed) after chunk \d+/);
  assert.deepEqual(await readdir(outDir), [], 'no destination file, no .part, no state file');
});

test('a holder that stalls is left after stallTimeoutMs and the next one resumes after its last chunk', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  const outDir = await tempDir(t);
  const data = sampleText(300_000);
  const published = await share(shareDir, 'notes.txt', data);
  const staller = await startFakeHolder(t, (socket, request) => {
    // Three good chunks, then silence with the connection open.
    socket.write(framesFor(data, request).slice(0, 3).join(''));
  });
  const starts: number[] = [];
  const honest = await startServer(t, { shareDir, onUpload: (event) => event.kind === 'started' && starts.push(event.upload.fromChunk) });

  const result = await downloadFile({
    file: 'notes.txt', outDir, expected: published, stallTimeoutMs: 300,
    holders: [holderOf(staller, 'staller'), holderOf(honest, 'honest')],
  });

  assert.equal(result.attempts[0]!.code, 'STALLED');
  assert.match(result.attempts[0]!.reason, /sent no frame for 300 ms after chunk 3/);
  assert.deepEqual(starts, [4]);
  assert.ok((await readFile(result.path)).equals(data));
});

test('a holder that lies (altered text, the real size and hash) is caught: nothing saved, the next holder starts over', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  const outDir = await tempDir(t);
  const data = sampleText(100_000);
  await share(shareDir, 'notes.txt', data);
  const liar = await startFakeHolder(t, (socket, request) => {
    const frames = framesFor(data, request);
    frames[5] = frames[5]!.replace('日本語', '中文字'); // same length in characters, different bytes
    socket.end(frames.join(''));
  });
  const starts: number[] = [];
  const honest = await startServer(t, { shareDir, onUpload: (event) => event.kind === 'started' && starts.push(event.upload.fromChunk) });

  const result = await downloadFile({ file: 'notes.txt', outDir, holders: [holderOf(liar, 'liar'), holderOf(honest, 'honest')] });

  assert.equal(result.attempts[0]!.code, 'VERIFY_FAILED');
  assert.match(result.attempts[0]!.reason, /but FILE-END says 100\d+ bytes with [0-9a-f]{64}/);
  assert.deepEqual(starts, [1], 'the honest holder sends the whole file again');
  assert.ok((await readFile(result.path)).equals(data));

  const alone = await tempDir(t);
  const failure = await downloadFile({ file: 'notes.txt', outDir: alone, holders: [holderOf(liar, 'liar')] }).catch((error: unknown) => error);
  assert.ok(failure instanceof DownloadError && failure.code === 'ALL_HOLDERS_FAILED');
  assert.deepEqual(await readdir(alone), [], 'altered data is never saved');
});

test('a holder whose file verifies but is not what it published is refused', HANG_GUARD, async (t) => {
  const outDir = await tempDir(t);
  const real = Buffer.from('the published version\n');
  const other = Buffer.from('another version\n');
  const holder = await startFakeHolder(t, (socket, request) => socket.end(framesFor(other, request).join('')));

  const failure = await downloadFile({ file: 'v.txt', outDir, holders: [holderOf(holder, 'stale', { size: real.length, sha256: sha256(real) })] }).catch((e: unknown) => e);

  assert.ok(failure instanceof DownloadError);
  assert.equal(failure.attempts[0]!.code, 'NOT_AS_PUBLISHED');
  assert.match(failure.attempts[0]!.reason, /sent a file with size 16, but published 22/);
  assert.deepEqual(await readdir(outDir), []);
});

test('a downloader killed -9 mid-file resumes from its .part file with fromChunk and verifies', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  const outDir = await tempDir(t);
  const data = sampleText(2_000_000);
  const published = await share(shareDir, 'resume me.txt', data);
  const sentChunks = 4000;
  // First run: a holder that sends the first 4,000 chunks, then keeps the connection open.
  const slow = await startFakeHolder(t, (socket, request) => socket.write(framesFor(data, request).slice(0, sentChunks).join('')));
  const first = startFixture(t, 'download-child.ts', ['resume me.txt', outDir, onlyHolder(slow.address.port)]);
  for (;;) {
    const { progress } = await nextLine(first.lines);
    if (progress.chunk === sentChunks) break;
  }
  await kill9(first.child);
  const paths = partPathsFor(outDir, 'resume me.txt');
  assert.ok(existsSync(paths.part) && existsSync(paths.state), 'the killed run left its .part and state files');
  assert.ok(!existsSync(join(outDir, 'resume me.txt')));

  // Second run: an honest holder; the download must ask it for the rest only.
  const starts: number[] = [];
  const honest = await startServer(t, { shareDir, onUpload: (event) => event.kind === 'started' && starts.push(event.upload.fromChunk) });
  const second = startFixture(t, 'download-child.ts', ['resume me.txt', outDir, onlyHolder(honest.address.port)]);
  let line = await nextLine(second.lines);
  while (line.progress) line = await nextLine(second.lines);

  assert.ok(line.result, `second run failed: ${JSON.stringify(line.error)}`);
  assert.equal(starts.length, 1);
  assert.ok(starts[0]! > 1, `the second run sent fromChunk ${starts[0]}`);
  assert.equal(starts[0], sentChunks, 'all chunks but the last one on disk were kept');
  assert.equal(line.result.resumedFromChunk, sentChunks);
  assert.equal(line.result.sha256, published.sha256);
  assert.ok((await readFile(join(outDir, 'resume me.txt'))).equals(data));
  assert.deepEqual(await readdir(outDir), ['resume me.txt']);
});

test('an aborted download stops at once and leaves nothing, or its .part when asked to keep it', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  const data = sampleText(1_000_000);
  await share(shareDir, 'a.txt', data);
  // A holder that sends part of the file and then nothing: the download waits until aborted.
  const slow = await startFakeHolder(t, (socket, request) => socket.write(framesFor(data, request).slice(0, 1000).join('')));

  for (const keepPartial of [false, true]) {
    const outDir = await tempDir(t);
    const controller = new AbortController();
    const failure = downloadFile({
      file: 'a.txt', outDir, keepPartial, signal: controller.signal, holders: [holderOf(slow, 'slow')],
      onProgress: () => controller.abort(),
    }).catch((error: unknown) => error);
    const error = await failure;
    assert.ok(error instanceof DownloadError && error.code === 'ABORTED', String(error));
    const paths = partPathsFor(outDir, 'a.txt');
    assert.ok(!existsSync(join(outDir, 'a.txt')));
    assert.equal(existsSync(paths.part), keepPartial);
  }
});

test('a destination that exists is never overwritten silently', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  const outDir = await tempDir(t);
  await share(shareDir, 'a.txt', Buffer.from('new'));
  await share(outDir, 'a.txt', Buffer.from('mine'));
  const server = await startServer(t, { shareDir });

  await assert.rejects(downloadFile({ file: 'a.txt', outDir, holders: [holderOf(server)] }), { code: 'DESTINATION_EXISTS' });
  assert.equal(await readFile(join(outDir, 'a.txt'), 'utf8'), 'mine');

  await downloadFile({ file: 'a.txt', outDir, holders: [holderOf(server)], overwrite: true });
  assert.equal(await readFile(join(outDir, 'a.txt'), 'utf8'), 'new');

  // A file that appears at the destination during the download is not replaced either, and the
  // verified data stays in the .part file.
  const racing = await tempDir(t);
  const failure = await downloadFile({
    file: 'a.txt', outDir: racing, holders: [holderOf(server)],
    onProgress: () => writeFileSync(join(racing, 'a.txt'), 'theirs'),
  }).catch((error: unknown) => error);
  assert.ok(failure instanceof DownloadError && failure.code === 'DESTINATION_EXISTS', String(failure));
  assert.equal(await readFile(join(racing, 'a.txt'), 'utf8'), 'theirs');
  assert.equal(await readFile(partPathsFor(racing, 'a.txt').part, 'utf8'), 'new');
});

test('an unreachable holder, a refusal and a bad option each say what went wrong', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  const outDir = await tempDir(t);
  const server = await startServer(t, { shareDir });
  const closed = await startFakeHolder(t, () => {});
  await new Promise<void>((resolve) => closed.server.close(() => resolve()));

  const failure = await downloadFile({ file: 'missing.txt', outDir, holders: [holderOf(closed, 'gone'), holderOf(server, 'peer-a')] }).catch((e: unknown) => e);
  assert.ok(failure instanceof DownloadError);
  assert.deepEqual(failure.attempts.map((a) => a.code), ['CONNECT_FAILED', 'REFUSED']);
  assert.match(failure.message, /gone \(127\.0\.0\.1:\d+\): cannot connect: connect ECONNREFUSED/);
  assert.match(failure.message, /peer-a \(127\.0\.0\.1:\d+\): answered DOWNLOAD-ERROR: file "missing.txt" is not shared by this peer/);

  await assert.rejects(downloadFile({ file: '../etc/passwd', outDir, holders: [holderOf(server)] }), { code: 'INVALID_OPTIONS', message: /file "..\/etc\/passwd" must not contain '\/'/ });
  await assert.rejects(downloadFile({ file: 'a.txt', outDir, holders: [] }), { code: 'NO_HOLDERS' });
  await assert.rejects(
    downloadFile({ file: 'a.txt', outDir, expected: { size: 5 }, holders: [holderOf(server, 'peer-a', { size: 6 })] }),
    { code: 'NO_HOLDERS', message: /peer-a .*publishes size 6, not the expected 5/ },
  );
});
