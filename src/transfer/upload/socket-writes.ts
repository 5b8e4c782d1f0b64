// Writing frames to a downloader with back-pressure: queue, and wait for the socket to drain only
// once its queue passed SEND_QUEUE_BYTES, so the next block is encoded while the kernel still sends.
import type { Socket } from 'node:net';
import { SEND_QUEUE_BYTES } from '../limits.js';
import type { SendBuffers } from './send-buffers.js';

/** Queues the batches on the socket; each goes back to `buffers` once the kernel has it. */
export async function write(socket: Socket, batches: Buffer[], buffers: SendBuffers): Promise<void> {
  if (socket.destroyed) throw new Error('the downloader closed the connection');
  for (const batch of batches) socket.write(batch, () => buffers.give(batch));
  if (socket.writableLength > SEND_QUEUE_BYTES) await drained(socket);
}

function drained(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      socket.off('drain', onDrain);
      socket.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('the downloader closed the connection'));
    socket.on('drain', onDrain);
    socket.on('close', onClose);
  });
}
