// Splits a shell line into words the way a Unix shell would for the cases people type: spaces
// separate, "double" and 'single' quotes group, a backslash escapes the next character.
import { UsageError } from './errors.js';

export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      inWord = true;
    } else if (char === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (quote) throw new UsageError(`unclosed ${quote} quote`);
  if (inWord) words.push(word);
  return words;
}

/** A word as typed back (for completion): quoted when it holds spaces or quotes. */
export function quoteWord(word: string): string {
  return /^[^\s"'\\]+$/.test(word) ? word : `"${word.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * How completion writes `word` when the person has typed `typed` of it: in the same style (inside
 * quotes when they opened one, else with backslashes), so the completion extends what is there.
 */
export function completeWord(word: string, typed: string): string {
  if (typed.startsWith('"')) return `"${word.replace(/["\\]/g, '\\$&')}"`;
  if (typed.startsWith("'")) return `'${word}'`;
  return word.replace(/[\s"'\\]/g, '\\$&');
}
