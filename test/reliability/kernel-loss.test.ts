// The lossy-network scenario on real kernel loss instead of our relay: two network namespaces joined
// by a veth pair, the server in one, the 20 peers in the other, and in each namespace an nftables
// input chain dropping 20 % of UDP packets (`numgen random mod 100 < 20 drop`) — 20 % each way.
// Needs root, `ip` (iproute2) and `nft` (nftables); skipped with a message otherwise. Only addresses
// inside the namespaces it creates are used; everything is deleted when the test ends.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEFAULT_ATTEMPTS } from '../../src/client/index.js';
import type { NetnsWorkloadArgs, NetnsWorkloadResult } from './netns-workload.js';
import { report } from './report.js';
import { startServerProcess } from './server-process.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LOSS_PERCENT = 20;
const PEERS = 20;
const OPS_PER_PEER = 50;

/** Why this machine cannot run the scenario, or undefined when it can. */
async function unavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  for (const tool of ['ip', 'nft']) {
    try {
      await run('which', [tool]);
    } catch {
      return `needs \`${tool}\` (${tool === 'nft' ? 'apt-get install nftables' : 'apt-get install iproute2'})`;
    }
  }
  return undefined;
}

interface Net {
  serverNs: string;
  clientNs: string;
  serverIp: string;
  clientIp: string;
}

async function createNet(t: TestContext): Promise<Net | string> {
  const id = `${process.pid % 100_000}`;
  const net: Net = { serverNs: `p2fs-s${id}`, clientNs: `p2fs-c${id}`, serverIp: `10.213.${process.pid % 250}.1`, clientIp: `10.213.${process.pid % 250}.2` };
  const [vs, vc] = [`p2fs${id}s`, `p2fs${id}c`];
  try {
    await run('ip', ['netns', 'add', net.serverNs]);
  } catch (error) {
    return `cannot create a network namespace here: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`;
  }
  t.after(async () => {
    // Deleting a namespace deletes the veth end in it, and so the pair.
    await run('ip', ['netns', 'del', net.serverNs]).catch(() => {});
    await run('ip', ['netns', 'del', net.clientNs]).catch(() => {});
  });
  const steps: string[][] = [
    ['ip', 'netns', 'add', net.clientNs],
    ['ip', 'link', 'add', vs, 'type', 'veth', 'peer', 'name', vc],
    ['ip', 'link', 'set', vs, 'netns', net.serverNs],
    ['ip', 'link', 'set', vc, 'netns', net.clientNs],
    ['ip', '-n', net.serverNs, 'addr', 'add', `${net.serverIp}/30`, 'dev', vs],
    ['ip', '-n', net.clientNs, 'addr', 'add', `${net.clientIp}/30`, 'dev', vc],
    ['ip', '-n', net.serverNs, 'link', 'set', vs, 'up'],
    ['ip', '-n', net.clientNs, 'link', 'set', vc, 'up'],
    ['ip', '-n', net.serverNs, 'link', 'set', 'lo', 'up'],
    ['ip', '-n', net.clientNs, 'link', 'set', 'lo', 'up'],
  ];
  for (const ns of [net.serverNs, net.clientNs]) {
    steps.push(
      ['ip', 'netns', 'exec', ns, 'nft', 'add', 'table', 'inet', 'p2fs_loss'],
      ['ip', 'netns', 'exec', ns, 'nft', 'add', 'chain', 'inet', 'p2fs_loss', 'input', '{ type filter hook input priority 0; policy accept; }'],
      ['ip', 'netns', 'exec', ns, 'nft', 'add', 'rule', 'inet', 'p2fs_loss', 'input', 'meta', 'l4proto', 'udp', 'numgen', 'random', 'mod', '100', '<', String(LOSS_PERCENT), 'counter', 'drop'],
    );
  }
  for (const [command, ...args] of steps) {
    try {
      await run(command!, args);
    } catch (error) {
      return `cannot set up the namespaces (${[command, ...args].join(' ')}): ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`;
    }
  }
  return net;
}

/** UDP packets the nft rules dropped in both namespaces. */
async function dropped(net: Net): Promise<number> {
  let total = 0;
  for (const ns of [net.serverNs, net.clientNs]) {
    const { stdout } = await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'chain', 'inet', 'p2fs_loss', 'input']);
    total += Number(/counter packets (\d+)/.exec(stdout)?.[1] ?? 0);
  }
  return total;
}

async function scenario(t: TestContext, net: Net, attempts: number, seed: number): Promise<NetnsWorkloadResult & { dropped: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'p2fs-kernel-loss-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const db = `sqlite://${join(dir, 'registry.sqlite')}`;
  const port = 4000;
  const droppedBefore = await dropped(net);
  const server = await startServerProcess(port, db, { host: net.serverIp, wrap: ['ip', 'netns', 'exec', net.serverNs] });
  t.after(() => server.kill9());
  const args: NetnsWorkloadArgs = {
    peers: PEERS, opsPerPeer: OPS_PER_PEER, seed, ip: net.clientIp, db, prefix: `kernel${seed}`,
    server: { host: net.serverIp, port }, retry: { attempts, firstTimeoutMs: 40, maxTimeoutMs: 160 },
  };
  const child = spawn('ip', ['netns', 'exec', net.clientNs, process.execPath, '--import', 'tsx', 'test/reliability/netns-workload.ts', JSON.stringify(args)], {
    cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  let result: NetnsWorkloadResult | undefined;
  for await (const line of createInterface({ input: child.stdout! })) {
    if (line === 'WORKLOAD-DONE') {
      // Stopped with SIGTERM so the store is closed cleanly before the peers' side reads it.
      server.child.kill('SIGTERM');
      await new Promise((resolve) => (server.child.exitCode !== null ? resolve(undefined) : server.child.once('exit', resolve)));
      child.stdin!.write('go\n');
    } else if (line.startsWith('RESULT ')) {
      result = JSON.parse(line.slice('RESULT '.length)) as NetnsWorkloadResult;
    }
  }
  assert.ok(result, `the workload process ended without a result:\n${stderr}`);
  return { ...result, dropped: (await dropped(net)) - droppedBefore };
}

test(`kernel loss: ${PEERS} peers × ${OPS_PER_PEER} operations across a veth pair whose nftables input chains drop ${LOSS_PERCENT} % of UDP each way`, async (t) => {
  const why = (await unavailable()) ?? undefined;
  if (why) return t.skip(why);
  const net = await createNet(t);
  if (typeof net === 'string') return t.skip(net);

  for (const [label, attempts, seed] of [['default budget', DEFAULT_ATTEMPTS, 31], ['large budget', 24, 32]] as const) {
    const result = await scenario(t, net, attempts, seed);
    report({
      scenario: `kernel loss (netns + nft), ${label} (${attempts} tries)`, load: `${PEERS} peers × ${OPS_PER_PEER} ops`,
      faults: `nft drops ${LOSS_PERCENT} % of UDP on input in each namespace: ${result.dropped} packets dropped`,
      attempted: result.attempted, completed: result.completed, lost: result.lost, ms: result.ms, notes: `${result.timedOut} TIMEOUT`,
    });
    assert.deepEqual(result.violations, [], `${result.violationCount} violations; first ones listed`);
    assert.equal(result.lost, 0);
    assert.equal(result.failed, 0);
    assert.equal(result.attempted, PEERS * OPS_PER_PEER);
    assert.ok(result.dropped > 100, `the kernel dropped only ${result.dropped} packets`);
    if (attempts === DEFAULT_ATTEMPTS) assert.ok(result.completed / result.attempted >= 0.995, `${result.completed} of ${result.attempted} completed`);
    else assert.equal(result.completed, result.attempted);
  }
});
