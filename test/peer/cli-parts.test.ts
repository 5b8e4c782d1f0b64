// The command line's small parts: words, flags, suggestions, tables and message lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completeWord, splitWords, quoteWord } from '../../src/cli/words.js';
import { parseFlags, parseDuration, parseServer } from '../../src/cli/flags.js';
import { closest } from '../../src/cli/suggest.js';
import { messageLine, table } from '../../src/cli/format.js';
import { UsageError } from '../../src/cli/errors.js';
import { progressReporter } from '../../src/cli/progress.js';

test('shell lines split like a Unix shell: quotes group, backslashes escape', () => {
  assert.deepEqual(splitWords(`publish "bob notes.txt" 'it''s' a\\ b ""`), ['publish', 'bob notes.txt', 'its', 'a b', '']);
  assert.throws(() => splitWords('remove "open'), UsageError);
  assert.equal(quoteWord('plain.txt'), 'plain.txt');
  assert.equal(quoteWord('with space "q".txt'), '"with space \\"q\\".txt"');
  // Completion continues in the style the person started: quoted, or with backslashes.
  assert.equal(completeWord('bob notes.txt', '"bo'), '"bob notes.txt"');
  assert.equal(completeWord('bob notes.txt', 'bo'), 'bob\\ notes.txt');
  assert.deepEqual(splitWords(completeWord('it\'s "x".txt', 'it')), ['it\'s "x".txt']);
});

test('flags: values inline or apart, switches, shorthands, and errors naming the flag', () => {
  const specs = { server: { value: 'HOST:PORT', help: '', parse: parseServer }, verbose: { short: '-v', help: '' }, out: { value: 'DIR', help: '' } };
  const parsed = parseFlags(['file.txt', '--server=[::1]:4001', '-v', '--out', 'x', '--', '--literal'], specs, 'get');
  assert.deepEqual(parsed.flags, { server: { host: '::1', port: 4001 }, verbose: true, out: 'x' });
  assert.deepEqual(parsed.positionals, ['file.txt', '--literal']);
  assert.deepEqual(parseServer('example.org', '--server'), { host: 'example.org', port: 4000 });
  assert.throws(() => parseFlags(['--out'], specs, 'get'), /--out needs a value \(DIR\)/);
  assert.throws(() => parseFlags(['--verbose=yes'], specs, 'get'), /--verbose is a switch/);
  assert.throws(() => parseFlags(['--serv', 'x'], specs, 'get'), /unknown flag --serv; did you mean --server\?/);
  assert.throws(() => parseServer('host:0', '--server'), /--server must be a port from 1 to 65535; got "0"/);
  assert.equal(parseDuration('1.5s', '--timeout'), 1500);
  assert.equal(parseDuration('250ms', '--timeout'), 250);
  assert.throws(() => parseDuration('soon', '--timeout'), /--timeout must be a duration/);
});

test('suggestions find near misses and stay quiet for nonsense', () => {
  const commands = ['register', 'deregister', 'publish', 'remove', 'list', 'info', 'search', 'download', 'update-contact'];
  assert.equal(closest('serch', commands), 'search');
  assert.equal(closest('regster', commands), 'register');
  assert.equal(closest('downl', commands), 'download');
  assert.equal(closest('xyzzy', commands), undefined);
});

test('tables align wide characters; message lines lead with type and rq and hide the token', () => {
  const text = table(['file', 'size'], [['世界.txt', '1 kB'], ['a', '2 B']]);
  const [head, , first, second] = text.split('\n');
  assert.equal(head, 'file      size');
  assert.equal(first, '世界.txt  1 kB');
  assert.equal(second, 'a         2 B');
  const line = messageLine({ direction: 'sent', server: 'x', attempt: 2, message: { type: 'DE-REGISTER', rq: 7, name: 'alice', token: 'abcdef0123456789abcdef0123456789' } });
  assert.equal(line, '→ DE-REGISTER (try 2) {"rq":7,"name":"alice","token":"abcd…"}');
});

test('progress off a terminal is a line per tenth, with rate and time left', () => {
  const lines: string[] = [];
  let now = 0;
  const progress = progressReporter('big.iso', { write: (text: string) => lines.push(text) }, () => now);
  for (let done = 0; done <= 1_000_000; done += 50_000, now += 100) progress.update(done, 1_000_000);
  assert.equal(lines.length, 11);
  assert.match(lines[5]!, /^big\.iso: 50% {2}500 kB \/ 1.00 MB {2}500 kB\/s {2}1 s left\n$/);
});
