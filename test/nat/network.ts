// A small internet in network namespaces, for issue 14's tests and benchmark: a "public" namespace
// (198.18.0.0/15, the benchmarking range) holding the index server and public peers at 198.18.0.1,
// and two private LANs (10.1.0.0/24, 10.2.0.0/24), each behind a router namespace that masquerades
// with nftables and drops new connections from outside, as a home router does. Everything is
// removed by remove() (call it from t.after / finally; it never throws).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where the public namespace's services are. */
export const PUBLIC_IP = '198.18.0.1';

export interface Lan {
  /** The LAN host's namespace, where NATed peers run. */
  ns: string;
  /** The router's namespace. */
  router: string;
  /** The router's public address: what the server sees NATed peers' datagrams come from. */
  publicIp: string;
  /** The LAN host's address, which the peers there declare. */
  hostIp: string;
  /** The router's outside interface (its masquerade rule matches it). */
  wan: string;
}

export interface NatNetwork {
  pub: string;
  lans: [Lan, Lan];
  /** Runs a command inside a namespace (`ip netns exec NS …`). */
  exec(ns: string, command: string[]): Promise<string>;
  /** The prefix that runs a process inside `ns`. */
  wrap(ns: string): string[];
  /** Forgets every NAT mapping of a LAN's router and makes new ones come from `ports` (e.g. "41000-41999"). */
  remap(lan: Lan, ports: string): Promise<void>;
  remove(): Promise<void>;
}

/** Why namespaces cannot be made here, or undefined when they can. */
export async function namespacesUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  for (const [tool, pkg] of [['ip', 'iproute2'], ['nft', 'nftables'], ['conntrack', 'conntrack']] as const) {
    try {
      await run('which', [tool]);
    } catch {
      return `needs \`${tool}\` (apt-get install ${pkg})`;
    }
  }
  return undefined;
}

/** Builds the network; throws (after removing what it made) when a step fails. */
export async function createNatNetwork(): Promise<NatNetwork> {
  const id = `${process.pid % 10_000}`;
  const pub = `p2n${id}pub`;
  const lan = (i: 1 | 2): Lan => ({ ns: `p2n${id}l${i}`, router: `p2n${id}r${i}`, publicIp: `198.18.${i}.2`, hostIp: `10.${i}.0.2`, wan: `p2n${id}w${i}` });
  const lans: [Lan, Lan] = [lan(1), lan(2)];
  const namespaces = [pub, ...lans.flatMap((l) => [l.router, l.ns])];
  const exec = async (ns: string, command: string[]) => (await run('ip', ['netns', 'exec', ns, ...command])).stdout;
  const remove = async () => {
    // Deleting a namespace deletes the veth ends in it, and so the pairs.
    for (const ns of namespaces) await run('ip', ['netns', 'del', ns]).catch(() => {});
  };
  const steps: string[][] = [
    ...namespaces.map((ns) => ['ip', 'netns', 'add', ns]),
    ...namespaces.map((ns) => ['ip', '-n', ns, 'link', 'set', 'lo', 'up']),
    ['ip', '-n', pub, 'addr', 'add', `${PUBLIC_IP}/32`, 'dev', 'lo'],
    ['ip', 'netns', 'exec', pub, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'],
  ];
  for (const [index, l] of lans.entries()) {
    const i = index + 1;
    const [up, g, h] = [`p2n${id}u${i}`, `p2n${id}g${i}`, `p2n${id}h${i}`];
    steps.push(
      ['ip', 'link', 'add', up, 'netns', pub, 'type', 'veth', 'peer', 'name', l.wan, 'netns', l.router],
      ['ip', 'link', 'add', g, 'netns', l.router, 'type', 'veth', 'peer', 'name', h, 'netns', l.ns],
      ['ip', '-n', pub, 'addr', 'add', `198.18.${i}.1/24`, 'dev', up],
      ['ip', '-n', l.router, 'addr', 'add', `${l.publicIp}/24`, 'dev', l.wan],
      ['ip', '-n', l.router, 'addr', 'add', `10.${i}.0.1/24`, 'dev', g],
      ['ip', '-n', l.ns, 'addr', 'add', `${l.hostIp}/24`, 'dev', h],
      ['ip', '-n', pub, 'link', 'set', up, 'up'],
      ['ip', '-n', l.router, 'link', 'set', l.wan, 'up'],
      ['ip', '-n', l.router, 'link', 'set', g, 'up'],
      ['ip', '-n', l.ns, 'link', 'set', h, 'up'],
      ['ip', '-n', l.router, 'route', 'add', 'default', 'via', `198.18.${i}.1`],
      ['ip', '-n', l.ns, 'route', 'add', 'default', 'via', `10.${i}.0.1`],
      ['ip', 'netns', 'exec', l.router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'],
      ['ip', 'netns', 'exec', l.router, 'nft', natRules(l.wan, '')],
    );
  }
  try {
    for (const [command, ...args] of steps) await run(command!, args);
  } catch (error) {
    await remove();
    const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
    throw new Error(`cannot build the NAT network: ${detail}`);
  }
  return {
    pub,
    lans,
    exec,
    wrap: (ns) => ['ip', 'netns', 'exec', ns],
    remap: async (l, ports) => {
      await exec(l.router, ['nft', `flush ruleset; ${natRules(l.wan, ports)}`]);
      await forgetMappings(exec, l, ports);
    },
    remove,
  };
}

/**
 * Flushes the router's connection tracking until no mapping from outside `ports` is left, and says
 * which entry stayed when one does. A UDP entry that survived a flush would keep its old port for
 * good, since the peer's keepalives refresh it: one CI rehearsal failed that way, with a silent
 * flush, the mapping never moving, and a punch refused by the new rules.
 */
async function forgetMappings(exec: NatNetwork['exec'], lan: Lan, ports: string): Promise<void> {
  const [low, high] = ports.split('-').map(Number) as [number, number];
  let stale: string[] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    await exec(lan.router, ['conntrack', '-F']).catch(() => {}); // exits 1 when the table was empty already
    const entries = await exec(lan.router, ['conntrack', '-L']).catch(() => '');
    stale = entries.split('\n').filter((entry) => {
      // The reply direction comes second: its dport is the port the router mapped the flow to.
      const mapped = [...entry.matchAll(/dport=(\d+)/g)][1]?.[1];
      return mapped !== undefined && entry.includes(`dst=${lan.publicIp} `) && (Number(mapped) < low || Number(mapped) > high);
    });
    if (stale.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${lan.router} kept mappings from before the remap to ${ports}: ${stale.join(' | ')}`);
}

/**
 * A home router: masquerade out of `wan` (from `ports` when given), and no new connection in, neither
 * passed on nor to the router itself: an unsolicited SYN is dropped, not answered with a reset (the
 * "stealth" default of home routers, and what lets a punch's crossing SYNs meet).
 */
function natRules(wan: string, ports: string): string {
  // A port range needs the protocol matched first; other protocols (ICMP) keep a plain masquerade.
  const masquerade = ports ? `oifname "${wan}" meta l4proto { tcp, udp } masquerade to :${ports}; oifname "${wan}" masquerade` : `oifname "${wan}" masquerade`;
  const noNewFromOutside = `policy accept; iifname "${wan}" ct state new drop;`;
  return `table ip p2fs_nat { chain out { type nat hook postrouting priority srcnat; policy accept; ${masquerade}; }; ` +
    `chain inbound { type filter hook forward priority filter; ${noNewFromOutside} }; ` +
    `chain to_router { type filter hook input priority filter; ${noNewFromOutside} }; }`;
}
