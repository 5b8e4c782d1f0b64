// How names and queries become words: the one definition both sides use, so that "Café" typed with a
// combining accent, "CAFE" and "café" are the same word. NFKD splits accented letters (and folds
// compatibility forms such as "ﬁ" and full-width digits), lower-casing comes before the combining
// marks are dropped so that marks it adds ("İ" → "i̇") go too, and NFC puts back what is left.

const COMBINING_MARK = /\p{M}/gu;
/** A word: a run of letters and digits. Everything else (spaces, punctuation, "_", ".") separates. */
const WORD = /[\p{L}\p{N}]+/gu;

/** `text` without case or accents. */
export function foldText(text: string): string {
  return text.normalize('NFKD').toLowerCase().replace(COMBINING_MARK, '').normalize('NFC');
}

/** The distinct words of `text`, folded, in the order they first appear. */
export function wordsOf(text: string): string[] {
  const words = foldText(text).match(WORD);
  if (!words) return [];
  return words.length === 1 ? words : [...new Set(words)];
}
