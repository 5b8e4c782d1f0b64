// "Did you mean …?" for mistyped commands and flags: the closest known word by edit distance.

/** ` (did you mean "search"?)`-style suffix, or '' when nothing is close enough. */
export function didYouMean(typed: string, known: readonly string[]): string {
  const best = closest(typed, known);
  return best === undefined ? '' : `; did you mean ${best}?`;
}

export function closest(typed: string, known: readonly string[]): string | undefined {
  const lower = typed.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const word of known) {
    const distance = word.startsWith(lower) && lower.length >= 2 ? 0.5 : editDistance(lower, word.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [word, distance];
  }
  // Up to a third of the word may be wrong: "serch" → "search", but "x" suggests nothing.
  return bestDistance <= Math.max(1, Math.floor(typed.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
