// Sorted arrays of strings in code-unit order (JavaScript's `<`), the order every listing and every
// paging cursor uses. Binary search keeps lookups O(log n); splicing is a memmove, cheap at our sizes.

/** Index of the first element ≥ key. */
export function lowerBound<T>(items: readonly T[], key: string, keyOf: (item: T) => string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keyOf(items[mid]!) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element > key. */
export function upperBound<T>(items: readonly T[], key: string, keyOf: (item: T) => string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keyOf(items[mid]!) <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function insertSorted<T>(items: T[], item: T, keyOf: (item: T) => string): void {
  items.splice(upperBound(items, keyOf(item), keyOf), 0, item);
}

export function removeSorted<T>(items: T[], key: string, keyOf: (item: T) => string): void {
  const at = lowerBound(items, key, keyOf);
  if (at < items.length && keyOf(items[at]!) === key) items.splice(at, 1);
}

export const itself = (s: string): string => s;
