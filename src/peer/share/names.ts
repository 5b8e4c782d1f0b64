// Which names in the share folder are shared, and under which name the index knows them.
import { validateUdpRequest } from '../../generated/catalogue.js';
import { reasonFromSchemaError } from '../../protocol/index.js';
import { PARTIAL_SUFFIX } from '../places.js';

/**
 * Names skipped without a word: hidden files (editors' swap files, .DS_Store, our own .p2fs) and
 * downloads in progress. Anything else that cannot be shared is skipped with a warning.
 */
export function isQuietlySkipped(diskName: string): boolean {
  return diskName.startsWith('.') || diskName.endsWith(PARTIAL_SUFFIX);
}

/** The name the index knows a file by: NFC, so `é` typed two ways is one name. */
export const indexName = (name: string): string => name.normalize('NFC');

/**
 * Why the protocol would refuse `name` as a file name, or undefined when it is fine. Asks the
 * generated validator, so the rule cannot drift from the schema.
 */
export function fileNameProblem(name: string): string | undefined {
  const probe = { type: 'REMOVE', rq: 0, name: 'probe', files: [name] };
  const validate = validateUdpRequest.REMOVE;
  if (validate(probe)) return undefined;
  return reasonFromSchemaError(validate.errors![0]!, 'REMOVE').replace(/^files\[0\]/, 'file name');
}
