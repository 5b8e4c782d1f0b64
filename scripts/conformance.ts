// Runs the conformance suite (test/conformance) against a running index server, or against a fresh
// in-process one when no --server is given (that is how `npm test` covers it).
//
//   npm run conformance -- --server 127.0.0.1:4000 [--max-datagram 1200]
//   npm run conformance -- --server 127.0.0.1:4000,127.0.0.1:4001,127.0.0.1:4002   # servers of one registry
//
// With several servers, each test file talks to one of them, spread over the list, as a client
// sticks to one server of a cluster.
//
// The suite uses random names, so a live server holding other data is fine; its clients bind on
// loopback, so the server must run on this host (127.0.0.1, ::1, or a wildcard address).
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const USAGE = 'Usage: npm run conformance -- [--server HOST:PORT[,HOST:PORT…] ([V6]:PORT for IPv6)] [--max-datagram BYTES (default 1200)]';

let values: { server?: string; 'max-datagram'?: string; help?: boolean };
try {
  ({ values } = parseArgs({ options: { 'server': { type: 'string' }, 'max-datagram': { type: 'string' }, 'help': { type: 'boolean' } } }));
} catch (error) {
  process.stderr.write(`conformance: ${(error as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const bad = values.server?.split(',').find((one) => !/^(\[[0-9a-fA-F:.]+\]|[^:\s,]+):\d{1,5}$/.test(one));
if (bad !== undefined) {
  process.stderr.write(`conformance: --server must be HOST:PORT or [V6]:PORT, comma-separated for several; got ${JSON.stringify(bad)}\n${USAGE}\n`);
  process.exit(2);
}

const folder = join(import.meta.dirname, '..', 'test', 'conformance');
const files = readdirSync(folder).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join(folder, f));
const env = {
  ...process.env,
  ...(values.server ? { P2FS_CONFORMANCE_SERVER: values.server } : {}),
  ...(values['max-datagram'] ? { P2FS_CONFORMANCE_MAX_DATAGRAM: values['max-datagram'] } : {}),
};
process.stdout.write(`conformance: ${files.length} files against ${values.server ?? 'a fresh in-process server'}\n`);
const child = spawn(process.execPath, ['--import', 'tsx', '--test', ...files], { stdio: 'inherit', env });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
