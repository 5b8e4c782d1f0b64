// The benchmarks' median: the middle value (the upper middle of an even count), the figure each of
// them reports from repeated runs.
export const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;
