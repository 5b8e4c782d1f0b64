// Pooled connections held for a transaction of several statements.
import type { Pool, PoolClient } from 'pg';

const ignore = (): void => {};

/**
 * A connection of the pool for a transaction of several statements. While it is checked out, the
 * pool no longer listens for its errors: a connection dropped meanwhile would crash the process.
 * The statement under way fails with the error anyway.
 */
export async function checkOut(pool: Pool): Promise<PoolClient> {
  const client = await pool.connect();
  client.on('error', ignore);
  return client;
}

/** Returns a connection to the pool; with an error, the pool discards it instead. */
export function checkIn(client: PoolClient, error?: Error): void {
  client.off('error', ignore);
  client.release(error);
}
