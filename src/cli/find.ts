// `p2fs find WORD…`: register, ask the index for the files whose names hold every word, print them,
// de-register.
import { randomBytes } from 'node:crypto';
import { Peer } from '../peer/peer.js';
import { EXIT_OK, UsageError } from './errors.js';
import { wordMatchesTable } from './format.js';
import type { FIND } from './peer-commands.js';
import { peerOptionsFrom } from './peer-options.js';
import type { CommandFlags } from './program.js';
import { reportPeer } from './report.js';
import { warnIfNotDeregistered } from './stopping.js';

export async function run(flags: CommandFlags<typeof FIND.flags>, args: string[]): Promise<number> {
  if (args.length === 0) throw new UsageError('find takes one or more WORDs; usage: find WORD... (e.g. find big bunny)');
  const words = args.join(' ');
  const name = flags.name ?? `find-${randomBytes(3).toString('hex')}`;
  const peer = await Peer.open({ ...peerOptionsFrom({ ...flags, name }, 'find'), database: 'memory://' });
  reportPeer(peer, process.stderr, { json: flags.json, messages: flags.verbose, activity: false });
  try {
    await peer.register();
    const files = await peer.findWords(words);
    process.stdout.write(flags.json ? `${JSON.stringify({ ok: true, words, files })}\n` : `${wordMatchesTable(words, files)}\n`);
    return EXIT_OK;
  } finally {
    warnIfNotDeregistered(await peer.stop());
  }
}
