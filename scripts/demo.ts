// The five-minute tour: an index server and two peers on loopback, every operation of the course
// once, with the messages shown as they cross, and a download verified byte for byte.
//
//   npm run demo
//
// Everything runs in this process on 127.0.0.1 (free ports) with sample files in temporary folders,
// which are deleted at the end. Exit 0 when every step did what it should.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytes, filesTable, holdersTable, hostPort, peerInfoTable, peersTable, wordMatchesTable } from '../src/cli/format.js';
import { describeError } from '../src/cli/errors.js';
import { reportPeer } from '../src/cli/report.js';
import { Peer } from '../src/peer/peer.js';
import { startIndexServer } from '../src/server/index.js';

/** The tour takes a few seconds; past this something is stuck, and an unattended run must end. */
const GIVE_UP_MS = 60_000;

const SAMPLES = {
  alice: {
    'welcome.txt': 'Welcome to P2FS!\nFiles travel between peers in chunks of 200 characters.\n',
    'poème d’été.txt': 'Sous le pont Mirabeau coule la Seine 🌉\n'.repeat(40),
    'pixels.bin': Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) % 256)),
  },
  bob: { 'recipes.md': '# Pancakes\n\n- flour\n- milk\n- eggs\n' },
};

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const heading = (step: number, text: string) => console.log(`\n${bold(`── ${step} · ${text}`)}`);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function tour(root: string): Promise<void> {
  const server = await startIndexServer({ host: '127.0.0.1', port: 0, store: 'memory://', expireAfterMs: 0 });
  const target = { host: '127.0.0.1', port: server.address.port };
  console.log(`index server listening on udp 127.0.0.1:${target.port} (in memory)`);
  const peers: Peer[] = [];
  try {
    const [alice, bob] = await Promise.all(
      (['alice', 'bob'] as const).map(async (name) => {
        const share = join(root, name);
        await mkdir(share);
        for (const [file, content] of Object.entries(SAMPLES[name])) await writeFile(join(share, file), content);
        const peer = await Peer.open({ name, server: target, share, shareMode: 'manual', host: '127.0.0.1', listenHost: '127.0.0.1' });
        peers.push(peer);
        reportPeer(peer, process.stdout, { json: false, messages: true, activity: false, prefix: `  ${name.padEnd(5)} │ ` });
        return peer;
      }),
    ) as [Peer, Peer];
    console.log(`alice shares ${join(root, 'alice')}; bob shares ${join(root, 'bob')}`);

    heading(1, 'register: each peer tells the index server its name and addresses (REGISTER)');
    await alice.register();
    await bob.register();

    heading(2, 'publish: each peer announces files with their size and SHA-256 (PUBLISH)');
    console.log(filesTable(await alice.publish([])));
    console.log(filesTable(await bob.publish(['recipes.md'])));

    heading(3, 'list: every peer and its files (RETRIEVE-ALL, paged)');
    console.log(peersTable(await bob.listPeers()));

    heading(4, 'info: one peer in detail (RETRIEVE-INFOT)');
    console.log(peerInfoTable(await bob.peerInfo('alice')));

    heading(5, 'search: who shares a file (SEARCH-FILE)');
    const wanted = 'poème d’été.txt';
    console.log(holdersTable(wanted, await bob.search(wanted)));

    heading(6, 'find: files by words, without case or accents (SEARCH-WORDS)');
    console.log(wordMatchesTable('POEME ete', await bob.findWords('POEME ete')));

    heading(7, 'download: bob fetches it from alice over TCP, in 200-character chunks, verified');
    const downloads = join(root, 'bob-downloads');
    const result = await bob.download(wanted, { outDir: downloads, from: 'alice' });
    const original = await readFile(join(root, 'alice', wanted));
    const copy = await readFile(result.path);
    if (!copy.equals(original) || sha256(copy) !== result.sha256) throw new Error(`the downloaded ${wanted} differs from alice's`);
    console.log(`saved ${result.path}: ${bytes(result.size)} in ${result.chunks} chunks, identical to alice's (SHA-256 ${result.sha256.slice(0, 16)}…)`);

    heading(8, 'update-contact: bob moves his file server to another port (UPDATE-CONTACT)');
    const before = bob.contact;
    const after = await bob.updateContact({ tcpPort: 0 });
    console.log(`bob was at ${hostPort(before.ip, before.tcpPort)}, now at ${hostPort(after.ip, after.tcpPort)}`);

    heading(9, 'remove: alice stops sharing a file (REMOVE)');
    await alice.remove(['pixels.bin']);
    console.log(peerInfoTable(await bob.peerInfo('alice')));

    heading(10, 'deregister: both leave the index (DE-REGISTER)');
    await alice.deregister();
    await bob.deregister();
    const refused = await alice.listPeers().then(
      () => 'alice still gets answers',
      (error: { reason?: string; message: string }) => `alice is no longer registered, so queries are refused: ${error.reason ?? error.message}`,
    );
    console.log(refused);
  } finally {
    for (const peer of peers) await peer.stop();
    await server.close();
  }
}

const stuck = setTimeout(() => {
  console.error(`demo: still running after ${GIVE_UP_MS / 1000} s; giving up`);
  process.exit(1);
}, GIVE_UP_MS);
stuck.unref();

const root = await mkdtemp(join(tmpdir(), 'p2fs-demo-'));
let code = 0;
try {
  await tour(root);
  console.log('\nThe tour is over: every operation answered, the download verified. Try it yourself:\n  npm run server\n  npm run peer -- serve --share DIR --name alice --server 127.0.0.1:4000\n  npm run peer -- --name bob --server 127.0.0.1:4000');
} catch (error) {
  console.error(`demo failed: ${describeError(error)}`);
  code = 1;
} finally {
  await rm(root, { recursive: true, force: true });
}
process.exit(code);
