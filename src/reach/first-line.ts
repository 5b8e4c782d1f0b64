// The first line of a connection, read without consuming anything after it: the greetings of
// callbacks and relays (CONNECTED-BACK, RELAY, RELAY-READY) come before the transfer itself.
import type { Socket } from 'node:net';
import { LineSplitter, MAX_LINE_BYTES } from '../protocol/index.js';

/**
 * Resolves with the first line (without its newline) and leaves the socket paused, or rejects with
 * why not: closed, an error, nothing within `timeoutMs`, or more bytes than the line (its sender
 * must wait for an answer before sending more).
 */
export function readFirstLine(socket: Socket, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const splitter = new LineSplitter(MAX_LINE_BYTES);
    const finish = (error: Error | undefined, line?: Buffer) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('end', onEnd);
      socket.pause();
      if (error) reject(error);
      else resolve(line!);
    };
    const timer = setTimeout(() => finish(new Error(`no first line within ${timeoutMs} ms`)), timeoutMs);
    const onError = (error: Error) => finish(error);
    const onEnd = () => finish(new Error('closed before its first line'));
    const onData = (chunk: Buffer) => {
      let lines: Buffer[];
      try {
        lines = splitter.push(chunk);
      } catch (error) {
        return finish(error as Error);
      }
      if (lines.length === 0) return;
      if (lines.length > 1 || splitter.buffered > 0) return finish(new Error('sent more than its first line before being answered'));
      finish(undefined, lines[0]!);
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.resume();
  });
}
