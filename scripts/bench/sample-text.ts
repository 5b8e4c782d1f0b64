// The benchmarks' text: prose-like lines, ASCII mostly, with accents, CJK, emoji, quotes, a
// backslash, tabs and a newline every line, so every path of the text codec is exercised.
export const TEXT_LINES = Buffer.from(
  [
    'The quick brown fox jumps over the lazy dog; "quoted" text and a back\\slash.',
    'Ünïcödé text with accents: café, naïve, résumé, Straße, smörgåsbord.',
    '日本語のテキストと中文文本，还有한국어 문장도 있습니다。',
    'Emoji and astral characters: 😀 🚀 👍🏽 🇨🇦 𝄞 and tabs\tbetween\twords.',
    '', // each line ends with a newline
  ].join('\n'),
);

/** `bytes` bytes of text made of whole lines, padded with '.' (stays valid UTF-8). */
export function textBlock(bytes: number): Buffer {
  const data = Buffer.alloc(bytes, 0x2e);
  for (let at = 0; at + TEXT_LINES.length <= bytes; at += TEXT_LINES.length) TEXT_LINES.copy(data, at);
  return data;
}
