// What the page tells a person when something is refused or fails: plain sentences built from the
// error's code, never the protocol's own words (chunk numbers, frame and message types, rq). The
// command line keeps the detailed messages; the page's API sends this sentence as `message` and the
// detailed one as `detail`, for the log and for scripts.
import type { HolderAttempt } from '../transfer/index.js';

/** What one holder did wrong, as a person says it. */
const HOLDER_TROUBLE: Record<HolderAttempt['code'], string> = {
  CONNECT_FAILED: 'could not be reached',
  CONNECT_TIMEOUT: 'did not answer',
  REFUSED: 'refused to send it',
  STALLED: 'stopped sending',
  CLOSED_EARLY: 'hung up before the end',
  BAD_FRAME: 'sent data this peer could not read',
  VERIFY_FAILED: 'sent data that did not match the file, so it was thrown away',
  NOT_AS_PUBLISHED: 'sent a different file from the one it lists',
  CORRUPT_PIECE: 'sent a damaged part of the file, so it was thrown away',
};

/** The peer's name alone: an attempt names its holder as `name (ip:port)`. */
const holderName = (attempt: Pick<HolderAttempt, 'holder'>): string => attempt.holder.replace(/ \(.*\)$/, '');

export interface ErrorFacts {
  code: string;
  /** The detailed message (kept as `detail`). */
  message: string;
  /** The file concerned, when there is one. */
  file?: string | undefined;
  /** The index server's own sentence, for a refusal. */
  reason?: string | undefined;
  attempts?: ReadonlyArray<Pick<HolderAttempt, 'holder' | 'code'>> | undefined;
  /** The index server's address, as the peer names it. */
  server?: string | undefined;
}

/** The sentence the page shows for an error of the peer, its client, its downloads or its API. */
export function plainWords(facts: ErrorFacts): string {
  const file = facts.file === undefined ? 'the file' : JSON.stringify(facts.file);
  const server = facts.server === undefined ? 'The index server' : `The index server (${facts.server})`;
  switch (facts.code) {
    case 'TIMEOUT':
    case 'SERVER_SILENT':
      return `${server} does not answer. Check that it is running and reachable, then retry.`;
    case 'DENIED':
      // The server's reasons are written for people: they name the field and the rule.
      return facts.reason ?? 'The index server refused this.';
    case 'NO_HOLDER':
    case 'NO_HOLDERS':
      return `Nobody shares ${file} right now.`;
    case 'ALL_HOLDERS_FAILED': {
      const troubles = (facts.attempts ?? []).map((a) => `${holderName(a)} ${HOLDER_TROUBLE[a.code] ?? 'failed'}`);
      const unique = [...new Set(troubles)];
      return `Could not download ${file}: ${unique.length > 0 ? unique.join('; ') : 'every peer sharing it failed'}. What arrived is kept; try again later.`;
    }
    case 'DESTINATION_EXISTS':
      return `${file} is already in the download folder: open it from the finished downloads, or delete it first.`;
    case 'PART_IN_USE':
    case 'CONFLICT':
      return facts.file === undefined ? sentence(facts.message) : `${file} is being downloaded already.`;
    case 'ABORTED':
      return `The download of ${file} was stopped.`;
    case 'IO':
      return `The download folder could not be written (${diskProblem(facts.message)}).`;
    case 'NOT_REGISTERED':
      return 'This peer is not registered with the index server: register again (Settings).';
    case 'STOPPED':
    case 'CLOSED':
      return 'This peer has stopped.';
    case 'BIND':
      return 'This peer cannot use its network port.';
    case 'PROTOCOL':
      return `${server} could not read what this peer sent.`;
    default:
      return sentence(facts.message);
  }
}

/** The system's words for a disk problem (ENOSPC, EACCES…), without paths. */
function diskProblem(message: string): string {
  if (/ENOSPC/.test(message)) return 'the disk is full';
  if (/EACCES|EPERM/.test(message)) return 'permission denied';
  if (/EROFS/.test(message)) return 'the disk is read-only';
  return 'a disk error';
}

/** A message as a sentence: capital first letter, final full stop. */
function sentence(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return trimmed;
  const first = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(first) ? first : `${first}.`;
}
