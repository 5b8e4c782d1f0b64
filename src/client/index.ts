// The UDP index client: requests with retries, paging followed, big lists batched.
export * from './index-client.js';
export * from './errors.js';
export * from './retry.js';
export { MAX_FILES_PER_REQUEST } from './batches.js';
