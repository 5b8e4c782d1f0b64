// Where the database services for the store tests are, and whether they answer. A test skips only
// when its service cannot be reached at all; a reachable service that misbehaves fails the test.
import { connect } from 'node:net';

export interface Service {
  name: string;
  url: string;
  /** Why the tests of this service are skipped, or undefined when it is reachable. */
  skip: string | undefined;
}

const PROBE_TIMEOUT_MS = 1000;

export async function service(name: string, envVariable: string, defaultUrl: string): Promise<Service> {
  const url = process.env[envVariable] ?? defaultUrl;
  const { hostname, port } = new URL(url);
  const problem = await tcpProblem(hostname, Number(port));
  return { name, url, skip: problem && `${name} not reachable at ${hostname}:${port}: ${problem} (set ${envVariable} to use another)` };
}

function tcpProblem(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: PROBE_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(`no answer within ${PROBE_TIMEOUT_MS} ms`);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}
