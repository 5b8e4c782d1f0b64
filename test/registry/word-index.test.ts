// The word index on its own: what a word is, whole-word matching without case or accents, the rank,
// and the limits (too many words, every word too common).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldText, MAX_NAMES_SCANNED, MAX_QUERY_WORDS, wordsOf, type Matches } from '../../src/registry/index.js';
import { WordIndex } from '../../src/registry/words/word-index.js';

function ranked(matches: ReturnType<WordIndex['match']>): string[] {
  assert.ok(!('refused' in matches), JSON.stringify(matches));
  const names: string[] = [];
  const m = matches as Matches;
  for (let t = 0; t < m.tierCount; t++) names.push(...m.tier(t));
  return names;
}

test('words are runs of letters and digits, folded: no case, no accents, compatibility forms unified', () => {
  assert.deepEqual(wordsOf('Big_Buck-Bunny.1080p.MKV'), ['big', 'buck', 'bunny', '1080p', 'mkv']);
  assert.deepEqual(wordsOf('Cafe\u0301 CAFÉ café'), ['cafe']);
  assert.deepEqual(wordsOf('ﬁle Ｆｕｌｌ２'), ['file', 'full2']);
  assert.deepEqual(wordsOf('İstanbul Ærø'), ['istanbul', 'ærø']);
  assert.deepEqual(wordsOf('日本語 ファイル'), ['日本語', 'ファイル']);
  assert.deepEqual(wordsOf('-- ... __'), []);
  assert.equal(foldText('Ölmühle'), 'olmuhle');
});

test('a name matches when every query word is a whole word of it, in any order and case', () => {
  const index = new WordIndex();
  for (const name of ['Big Buck Bunny.mp4', 'bigger bunny.txt', 'bunny big.ogg', 'Bunny.mp4', 'BIG_BUNNY', 'big.txt']) index.add(name);
  assert.deepEqual(ranked(index.match('big bunny')), ['BIG_BUNNY', 'bunny big.ogg', 'Big Buck Bunny.mp4']);
  assert.deepEqual(ranked(index.match('BUNNY')), ['BIG_BUNNY', 'Bunny.mp4', 'bigger bunny.txt', 'bunny big.ogg', 'Big Buck Bunny.mp4']);
  assert.deepEqual(ranked(index.match('bunn')), [], 'a part of a word is not a word');
  assert.deepEqual(ranked(index.match('big absent')), []);
});

test('best match first: fewer other words in the name, then name order', () => {
  const index = new WordIndex();
  for (const name of ['z song.ogg', 'song.ogg', 'a b song.ogg', 'a song.ogg']) index.add(name);
  assert.deepEqual(ranked(index.match('song')), ['song.ogg', 'a song.ogg', 'z song.ogg', 'a b song.ogg']);
});

test('a removed name is no longer found, and its words go when no other name has them', () => {
  const index = new WordIndex();
  index.add('alpha beta');
  index.add('alpha gamma');
  index.add('alpha delta');
  const words = index.wordCount;
  index.remove('alpha gamma');
  assert.deepEqual(ranked(index.match('alpha')), ['alpha beta', 'alpha delta']);
  assert.deepEqual(ranked(index.match('gamma')), []);
  assert.equal(index.wordCount, words - 1);
  index.remove('alpha beta');
  index.remove('alpha delta');
  assert.equal(index.size, 0);
  assert.equal(index.wordCount, 0);
});

test('refusals: no word, more than MAX_QUERY_WORDS words', () => {
  const index = new WordIndex();
  index.add('a b c');
  const none = index.match('...');
  assert.ok('refused' in none && none.refused === 'NO_WORDS' && /no word/.test(none.reason), JSON.stringify(none));
  const many = index.match(Array.from({ length: MAX_QUERY_WORDS + 1 }, (_, i) => `w${i}`).join(' '));
  assert.ok('refused' in many && many.refused === 'TOO_MANY_WORDS' && /at most 8/.test(many.reason), JSON.stringify(many));
  const repeated = index.match(Array.from({ length: MAX_QUERY_WORDS + 3 }, () => 'a').join(' '));
  assert.deepEqual(ranked(repeated), ['a b c'], 'a word repeated counts once');
});

test('refusal: every word in more than MAX_NAMES_SCANNED names; one rarer word makes it answerable', () => {
  const index = new WordIndex();
  for (let i = 0; i <= MAX_NAMES_SCANNED; i++) index.add(`common track ${i}.mp3`);
  const common = index.match('track mp3');
  assert.ok('refused' in common && common.refused === 'WORDS_TOO_COMMON' && /rarer word/.test(common.reason), JSON.stringify(common));
  assert.deepEqual(ranked(index.match('track mp3 4242')), ['common track 4242.mp3']);
});
