// The protocol edge: bytes ⇄ typed, validated messages.
export * from './decode.js';
export * from './encode.js';
export * from './errors.js';
export * from './limits.js';
export { LineSplitter } from './lines.js';
export { reasonFromSchemaError, show } from './reasons.js';
export type * from '../generated/catalogue.js';
