// Runs the conformance suite (test/conformance) against a running index server, or against a fresh
// in-process one when no --server is given (that is how `npm test` covers it).
//
//   npm run conformance -- --server 127.0.0.1:4000 [--max-datagram 1200]
//
// The suite uses random names, so a live server holding other data is fine; its clients bind on
// loopback, so the server must run on this host (127.0.0.1, ::1, or a wildcard address).
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const USAGE = 'Usage: npm run conformance -- [--server HOST:PORT | [V6]:PORT] [--max-datagram BYTES (default 1200)]';

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
if (values.server !== undefined && !/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(values.server)) {
  process.stderr.write(`conformance: --server must be HOST:PORT or [V6]:PORT, got ${JSON.stringify(values.server)}\n${USAGE}\n`);
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
