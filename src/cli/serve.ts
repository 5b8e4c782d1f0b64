// `p2fs serve`: share a folder until stopped. The web page (--ui) and the metrics (--metrics) are
// bound first, so a busy port fails the command before anything is registered; then the peer
// registers, publishes the folder and serves, until a stop signal de-registers it.
import { Peer } from '../peer/peer.js';
import { EXIT_OK, UsageError } from './errors.js';
import { hostPort } from './format.js';
import { startMetrics } from './metrics.js';
import type { SERVE } from './peer-commands.js';
import { downloadFolder, peerOptionsFrom } from './peer-options.js';
import type { CommandFlags } from './program.js';
import { reportPeer } from './report.js';
import { untilStopSignal, warnIfNotDeregistered } from './stopping.js';
import { startUiFromFlags } from './ui.js';

export async function run(flags: CommandFlags<typeof SERVE.flags>, args: string[]): Promise<number> {
  if (args.length > 0) throw new UsageError(`serve takes no arguments, got "${args[0]}"`);
  if (!flags.share) throw new UsageError('serve needs --share DIR: the folder to share');
  const out = flags.ui === undefined ? flags.out : await downloadFolder(flags.out);
  const stop = untilStopSignal();
  const peer = await Peer.open({
    ...peerOptionsFrom(flags, 'peer'),
    share: flags.share,
    shareMode: 'auto',
    ...(flags.db === undefined ? {} : { database: flags.db }),
    ...(flags['max-uploads'] === undefined ? {} : { maxUploads: flags['max-uploads'] }),
    ...(flags['nat-keepalive'] === undefined ? {} : { natKeepaliveMs: flags['nat-keepalive'] }),
    ...relayOption(flags),
  });
  // What was started beside the peer, closed in reverse order before it stops.
  const started: Array<{ close(): Promise<void> }> = [];
  try {
    reportPeer(peer, process.stdout, { json: flags.json, messages: flags.verbose, activity: true });
    const ui = await startUiFromFlags(peer, { ...flags, out }, process.stdout);
    if (ui) started.push(ui);
    if (flags.metrics) {
      const { peerMetrics } = await import('../metrics/peer.js');
      started.push(await startMetrics(flags.metrics, peerMetrics(peer), say(flags.json)));
    }
    await peer.register();
    const s = peer.status();
    const where = `tcp ${hostPort(s.contact.ip, s.contact.tcpPort)}, udp port ${s.contact.udpPort}`;
    say(flags.json)(
      `serving ${s.sharedFiles} file${s.sharedFiles === 1 ? '' : 's'} from ${s.shareDir} as ${peer.name} (${where}) · index server ${s.server}`,
      { event: 'serving', name: peer.name, share: s.shareDir, files: s.sharedFiles, contact: s.contact, server: s.server },
    );
    if (peer.relayPort !== undefined) {
      say(flags.json)(`relaying for peers behind NATs on tcp port ${peer.relayPort}`, { event: 'relaying', relayPort: peer.relayPort });
    }
    const seen = peer.seenAs;
    if (seen?.behindNat) {
      say(flags.json)(
        `behind a NAT: other peers reach you by callback (the index server sees you at ${hostPort(seen.observedIp, seen.observedUdpPort)})`,
        { event: 'behind-nat', observedIp: seen.observedIp, observedUdpPort: seen.observedUdpPort },
      );
    }
    const signal = await stop;
    if (!flags.json) process.stdout.write(`${signal}: de-registering and stopping\n`);
  } finally {
    for (const thing of started.reverse()) await thing.close();
    warnIfNotDeregistered(await peer.stop(), 'the index server will expire this peer');
  }
  return EXIT_OK;
}

function relayOption(flags: CommandFlags<typeof SERVE.flags>): { relay?: { maxTransfers?: number; bytesPerSecond?: number } } {
  const capped = flags['relay-max'] !== undefined || flags['relay-rate'] !== undefined;
  if (!flags.relay && capped) throw new UsageError('--relay-max and --relay-rate need --relay');
  if (!flags.relay) return {};
  return {
    relay: {
      ...(flags['relay-max'] === undefined ? {} : { maxTransfers: flags['relay-max'] }),
      ...(flags['relay-rate'] === undefined ? {} : { bytesPerSecond: flags['relay-rate'] }),
    },
  };
}

/** A line for people, or its data as a JSON line with --json. */
const say = (json: boolean) => (line: string, data: Record<string, unknown>) =>
  process.stdout.write(json ? `${JSON.stringify(data)}\n` : `${line}\n`);
