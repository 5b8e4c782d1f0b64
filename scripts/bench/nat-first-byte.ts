// Time to the first byte for each reachability case (issue 14), on real NATs built from network
// namespaces (test/nat/network.ts): root only, skipped with the reason otherwise. Called from
// bench-transfer.ts; runs its probe (this file with `probe ARGS`) inside a namespace, since a
// process cannot change its own.
//
// First byte = from asking to reach the holder (connect, or CALLBACK and the holder's connection
// back, or a punched CALLBACK and the simultaneous open, or RELAY and the relay's callback) to the
// first frame of the DOWNLOAD sent on it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IndexClient } from '../../src/client/index.js';
import { silentLogger } from '../../src/log/index.js';
import { encodeLine } from '../../src/protocol/index.js';
import { addressTowards } from '../../src/peer/address.js';
import { CallbackListener } from '../../src/reach/callback-listener.js';
import { reachHolders } from '../../src/reach/open-connection.js';
import { startPeerProcess, type PeerProcess } from '../../test/helpers/cli.js';
import { createNatNetwork, namespacesUnavailable, PUBLIC_IP } from '../../test/nat/network.js';
import { startServerProcess } from '../../test/reliability/server-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PORT = 4000;
const RUNS = 20;
/** Short, so the holder's next WHO-AM-I tells the server its new mapping soon after the remap. */
const NAT_KEEPALIVE = '300ms';
/** A few keepalives: the server has seen the new mapping by then. */
const NAT_KEEPALIVE_SETTLE_MS = 1000;
/** CALLBACK_RATE refills its burst of 20 in 4 s. */
const CALLBACK_REFILL_MS = 4500;

interface ProbeArgs {
  file: string;
  runs: number;
}

/** The probe serves no files; a registration needs some TCP port (the discard port says so). */
const listenerPortPlaceholder = 9;

/** Inside a namespace: register, find the holder, and time `runs` first bytes. Prints a JSON line of ms. */
async function probe(args: ProbeArgs): Promise<void> {
  const client = await IndexClient.open({ server: { host: PUBLIC_IP, port: PORT }, logger: silentLogger });
  await client.register({ name: `probe-${process.pid}`, ip: await addressTowards(PUBLIC_IP, PORT), tcpPort: listenerPortPlaceholder });
  const listener = await CallbackListener.open(silentLogger);
  const [holder] = await client.searchFile(args.file);
  const open = reachHolders({
    askCallback: (...ask) => client.callback(...ask),
    listener,
    logger: silentLogger,
    behindNat: () => client.seenAs?.behindNat === true,
    relays: async () => (await client.retrieveAll()).flatMap((p) => (p.relayPort === undefined ? [] : [{ name: p.name, ip: p.ip, relayPort: p.relayPort }])),
  });
  const times: number[] = [];
  for (let run = 0; run < args.runs; run++) {
    const start = performance.now();
    const socket = await open(holder!, { timeoutMs: 5000 });
    socket.write(encodeLine({ type: 'DOWNLOAD', rq: run, file: args.file }));
    socket.resume();
    await once(socket, 'data');
    times.push(performance.now() - start);
    socket.destroy();
  }
  process.stdout.write(`${JSON.stringify(times)}\n`);
  await listener.close();
  await client.deregister().catch(() => {});
  await client.close();
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** The three cases on a fresh NAT network; prints a table. */
export async function natFirstByte(write: (text: string) => void): Promise<void> {
  const why = await namespacesUnavailable();
  if (why) {
    write(`\ntime to first byte behind NATs: skipped (${why})\n`);
    return;
  }
  const net = await createNatNetwork();
  const dir = await mkdtemp(join(tmpdir(), 'p2fs-nat-bench-'));
  const children: ChildProcess[] = [];
  try {
    const server = await startServerProcess(PORT, 'memory://nat-bench', { host: PUBLIC_IP, wrap: net.wrap(net.pub) });
    children.push(server.child);
    const serve = async (ns: string, name: string, file: string, extra: string[]): Promise<PeerProcess> => {
      const share = await mkdtemp(join(dir, `${name}-`));
      await writeFile(join(share, file), 'first byte\n'.repeat(1000));
      const peer = startPeerProcess(['serve', '--name', name, '--share', share, '--server', `${PUBLIC_IP}:${PORT}`, ...extra], { wrap: net.wrap(ns) });
      children.push(peer.child);
      await peer.waitFor(/^serving 1 file/m);
      return peer;
    };
    await serve(net.pub, 'public', 'public.txt', ['--relay']);
    await serve(net.lans[0].ns, 'home', 'home.txt', ['--nat-keepalive', NAT_KEEPALIVE]);
    const cases = [
      { what: 'direct: downloader behind a NAT, holder public', ns: net.lans[1].ns, file: 'public.txt' },
      { what: 'callback: holder behind a NAT, downloader public', ns: net.pub, file: 'home.txt' },
      { what: 'hole punched: both behind NATs', ns: net.lans[1].ns, file: 'home.txt' },
      {
        what: 'relay: both behind NATs, one rewriting ports',
        ns: net.lans[1].ns,
        file: 'home.txt',
        // The server refuses a punch through a NAT that rewrites source ports: the relay's turn.
        before: async () => {
          await net.remap(net.lans[0], '41000-41999');
          await new Promise((resolve) => setTimeout(resolve, NAT_KEEPALIVE_SETTLE_MS));
        },
      },
    ];
    write(`\ntime to first byte behind NATs (${RUNS} runs each, namespaces on this machine, so the network adds ~0):\n`);
    write(`${'case'.padEnd(52)} ${'median ms'.padStart(10)} ${'p90 ms'.padStart(8)} ${'max ms'.padStart(8)}\n`);
    for (const c of cases) {
      await c.before?.();
      // The public probe and the relay share 198.18.0.1, and so one CALLBACK budget (a burst of 20,
      // then 5 a second): each case starts with it full again.
      await new Promise((resolve) => setTimeout(resolve, CALLBACK_REFILL_MS));
      const child = spawn('ip', ['netns', 'exec', c.ns, process.execPath, '--import', 'tsx', 'scripts/bench/nat-first-byte.ts', 'probe', JSON.stringify({ file: c.file, runs: RUNS })], { cwd: ROOT });
      children.push(child);
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
      child.stderr.setEncoding('utf8').on('data', (t: string) => (err += t));
      const [code] = await once(child, 'exit');
      if (code !== 0) {
        write(`${c.what.padEnd(52)} failed: ${err.trim().split('\n').slice(0, 6).join(' / ')}\n`);
        continue;
      }
      const times = (JSON.parse(out) as number[]).sort((a, b) => a - b);
      write(`${c.what.padEnd(52)} ${percentile(times, 50).toFixed(1).padStart(10)} ${percentile(times, 90).toFixed(1).padStart(8)} ${times.at(-1)!.toFixed(1).padStart(8)}\n`);
    }
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(children.map((child) => (child.exitCode === null && child.signalCode === null ? once(child, 'exit') : undefined)));
    await net.remove();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'probe') await probe(JSON.parse(process.argv[3]!) as ProbeArgs);
else if (import.meta.url === `file://${process.argv[1]}`) await natFirstByte((text) => process.stdout.write(text));
