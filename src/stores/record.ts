// Values are stored in keyv's layout, {"value": …} under the key "<namespace>:<key>", so that a plain
// keyv (configured with JSON.stringify/JSON.parse) on the same table or Redis database reads them.

export function encodeRecord(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError(`a ${typeof value} is not a JSON value and cannot be stored`);
  return `{"value":${json}}`;
}

export function decodeRecord(record: string): unknown {
  return (JSON.parse(record) as { value?: unknown }).value;
}
