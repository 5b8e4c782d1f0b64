// How both programs stop. Ctrl-C (SIGINT), SIGTERM and SIGHUP (the terminal was closed) all ask
// for the same clean stop: a download keeps its .part file and the peer de-registers; the server
// answers what is in flight and closes its store. A second signal exits at once, for a person who
// will not wait for the de-registration to time out.
import { describeError, exitCodeOnSignal } from './errors.js';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** Resolves with the first stop signal; the second one exits at once (128 + its number). */
export function untilStopSignal(onSecond: (signal: StopSignal) => void = (signal) => process.exit(exitCodeOnSignal(signal))): Promise<StopSignal> {
  return new Promise((resolve) => {
    let received = false;
    const handler = (signal: StopSignal) => {
      if (signal === 'SIGHUP') keepWritingAfterHangUp();
      if (received) return onSecond(signal);
      received = true;
      resolve(signal);
    };
    for (const signal of STOP_SIGNALS) process.on(signal, handler);
  });
}

/**
 * After a hang-up the terminal is gone, and writing to it fails (EIO). Those writes are progress and
 * farewells nobody can read any more: they must not crash the de-registration that follows.
 */
function keepWritingAfterHangUp(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount('error') === 0) stream.on('error', () => {});
  }
}

/** Says so when the peer could not de-register as it stopped (Peer.stop() resolves with why). */
export function warnIfNotDeregistered({ deregisterError }: { deregisterError?: Error }, consequence = 'the index server will expire the registration'): void {
  if (deregisterError) process.stderr.write(`warning: could not de-register (${describeError(deregisterError)}); ${consequence}\n`);
}
