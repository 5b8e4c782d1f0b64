// Reads Prometheus's text exposition format (version 0.0.4) strictly enough to catch a malformed
// scrape: every sample line must parse, and every sample must belong to a family with # TYPE.
import assert from 'node:assert/strict';

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  /** Samples by metric name (histograms' _bucket, _sum and _count as their own names). */
  samples: Map<string, Sample[]>;
  types: Map<string, string>;
  /** The one sample of `name` whose labels include `labels`; fails when there is none or several. */
  value(name: string, labels?: Record<string, string>): number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;

export function parsePrometheus(text: string): Scrape {
  const samples = new Map<string, Sample[]>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    const match = SAMPLE.exec(line);
    assert.ok(match, `not a sample line: ${JSON.stringify(line)}`);
    const [, name, labelText = '', valueText] = match as unknown as [string, string, string | undefined, string];
    const labels: Record<string, string> = {};
    let consumed = 0;
    LABEL.lastIndex = 0;
    for (let label = LABEL.exec(labelText); label; label = LABEL.exec(labelText)) {
      labels[label[1]!] = label[2]!.replace(/\\(.)/g, '$1');
      consumed = LABEL.lastIndex;
    }
    assert.equal(consumed, labelText.length, `every label of ${JSON.stringify(line)} parses`);
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    assert.ok(!Number.isNaN(value) || valueText === 'NaN', `value of ${line}`);
    const family = name.replace(/_(bucket|sum|count)$/, '');
    assert.ok(types.has(name) || types.has(family), `${name} has no # TYPE line`);
    samples.set(name, [...(samples.get(name) ?? []), { labels, value }]);
  }
  return {
    samples,
    types,
    value(name, labels = {}) {
      const found = (samples.get(name) ?? []).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
      assert.equal(found.length, 1, `one ${name}${JSON.stringify(labels)} expected, found ${found.length}`);
      return found[0]!.value;
    },
  };
}
