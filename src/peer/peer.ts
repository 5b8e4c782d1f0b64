// A peer: client of the index server (UDP), file server to other peers (TCP), downloader. The CLI
// and the web GUI both drive this one class, so every behaviour exists once. Live updates (messages
// crossing, share changes, transfers, registration state) come out as events.
import { EventEmitter } from 'node:events';
import { isIPv6 } from 'node:net';
import { IndexClient, IndexClientError, serverList, type Contact, type MessageSeen, type PeerInfo, type RetryPolicy, type SeenAs, type ServerAddress } from '../client/index.js';
import type { FileEntry, FileHolder, PeerListing, WordMatch } from '../generated/types.js';
import { silentLogger, type Logger } from '../log/index.js';
import { downloadFile, startFileServer, type DownloadProgress, type DownloadResult, type DroppedHolder, type FileServer, type UploadEvent, type UploadInfo } from '../transfer/index.js';
import { addressTowards } from './address.js';
import { PeerDatabase } from './database.js';
import { PeerError } from './errors.js';
import { ShareFolder, type ShareChange, type ShareMode, type SharedFile } from './share/folder.js';
import type { DiskFile } from './share/scan.js';
import { indexName } from './share/names.js';
import { CallbackListener } from '../reach/callback-listener.js';
import { NAT_KEEPALIVE_MS } from '../reach/limits.js';
import { ConnectBacks } from '../reach/connect-back.js';
import { reachHolders } from '../reach/open-connection.js';
import { Relay } from '../reach/relay.js';
import type { TokenKeeper } from './tokens.js';

/**
 * How often a registered peer refreshes its registration. The server expires peers not heard from
 * for 5 minutes by default: a refresh every minute survives three lost in a row, retries included.
 */
export const KEEPALIVE_MS = 60_000;
export { NAT_KEEPALIVE_MS } from '../reach/limits.js';

export type RegistrationState =
  | 'unregistered' // not registered (yet, or any more)
  | 'registered' // the server confirmed our registration
  | 'unreachable' // registered, but the last refresh got no answer: retrying at the next keepalive
  | 'refused'; // the server refused to (re-)register us; `reason` says why

export interface RegistrationChange {
  state: RegistrationState;
  reason?: string;
}

export interface DownloadInfo extends DownloadProgress {
  id: number;
  file: string;
  startedAt: Date;
}

export type DownloadEvent =
  | { kind: 'started'; download: DownloadInfo }
  | { kind: 'progress'; download: DownloadInfo }
  | { kind: 'finished'; download: DownloadInfo; result: DownloadResult }
  | { kind: 'failed'; download: DownloadInfo; error: Error }
  | { kind: 'dropped'; download: DownloadInfo; dropped: DroppedHolder };

export interface PeerEvents {
  message: [MessageSeen];
  registration: [RegistrationChange];
  share: [ShareChange];
  upload: [UploadEvent];
  download: [DownloadEvent];
}

export interface PeerOptions {
  /** The index server, or several serving one registry (the client fails over between them). */
  server: ServerAddress | readonly ServerAddress[];
  /** The peer's name; may be left out when the share's database remembers one. */
  name?: string;
  /** The share folder; without one the peer shares nothing (it still registers a TCP port). */
  share?: string;
  /** `auto`: every file of the folder is shared (serve). `manual`: only what publish() names (the shell). */
  shareMode?: ShareMode;
  /** Store URL of the peer's database. Default sqlite://<share>/.p2fs/peer.sqlite, or memory:// without a share. */
  database?: string;
  /**
   * Keeps the registration token per server and name beyond this run (the command line's state
   * folder), so the next run under the name takes it back. Default: only the share's database keeps it.
   */
  tokens?: TokenKeeper;
  /** The IP to advertise. Default: the local address that reaches the server. */
  host?: string;
  /** Address the file server listens on. Default every interface. */
  listenHost?: string;
  tcpPort?: number;
  udpPort?: number;
  retry?: Partial<RetryPolicy>;
  maxUploads?: number;
  keepaliveMs?: number;
  /** WHO-AM-I period while the server sees this peer behind a NAT (NAT_KEEPALIVE_MS). */
  natKeepaliveMs?: number;
  /** Relay for peers that cannot reach each other (serve --relay), with these caps. */
  relay?: { maxTransfers?: number; bytesPerSecond?: number };
  logger?: Logger;
  /** Share-folder timings (tests shorten them) and a hook called before each file is hashed. */
  shareTiming?: { settleMs?: number; debounceMs?: number; rescanMs?: number };
  onHash?: (file: DiskFile) => void;
}

export interface DownloadRequestOptions {
  /** Only from this peer. */
  from?: string;
  outDir: string;
  overwrite?: boolean;
  signal?: AbortSignal;
  /** Keep the .part file when the download fails or is aborted, for the next download to resume. */
  keepPartial?: boolean;
  stallTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Holders fetched from at once (a file published with a pieces root). Default DEFAULT_MAX_HOLDERS. */
  maxHolders?: number;
}

export interface PeerStatus {
  name: string;
  server: string;
  registration: RegistrationState;
  /** When the server last answered anything. */
  lastHeardFromServer: Date | undefined;
  contact: Contact;
  /** Where the file server listens. */
  tcpAddress: string;
  shareDir: string | undefined;
  sharedFiles: number;
  uploads: UploadInfo[];
  downloads: DownloadInfo[];
}

/** A peer with no share folder serves nothing. */
const NOTHING_SHARED = { lookup: () => undefined };

export class Peer extends EventEmitter<PeerEvents> {
  private state: RegistrationState = 'unregistered';
  private lastHeard: Date | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private natKeepalive: NodeJS.Timeout | undefined;
  /** This peer's NAT gives each index server another mapping: keepalives go to the current one only. */
  private natMapsPerServer = false;
  private refreshing: Promise<void> | undefined;
  private needsReconcile = false;
  private readonly downloads = new Map<number, DownloadInfo>();
  private nextDownloadId = 1;
  private stopped = false;
  /** Holders behind a NAT connect out on request: CONNECT-BACK from the server, served like any connection. */
  private readonly connectBacks: ConnectBacks;
  /** serve --relay: joins peers behind NATs (its port is registered as relayPort). */
  private relay: Relay | undefined;

  private constructor(
    readonly name: string,
    private client: IndexClient,
    private fileServer: FileServer,
    private readonly database: PeerDatabase,
    readonly share: ShareFolder | undefined,
    private ip: string,
    private readonly options: PeerOptions,
    private readonly logger: Logger,
  ) {
    super();
    this.connectBacks = new ConnectBacks({ name, serve: (socket) => this.fileServer.adopt(socket), logger });
  }

  /**
   * Binds the UDP and TCP ports, opens the database and looks at the share folder (hashing what
   * changed). The peer is not registered yet: call register().
   */
  static async open(options: PeerOptions): Promise<Peer> {
    const logger = options.logger ?? silentLogger;
    const cleanup: Array<() => Promise<unknown>> = [];
    let peer: Peer | undefined;
    try {
      const url = options.database ?? (options.share ? await PeerDatabase.urlFor(options.share) : 'memory://');
      const database = await PeerDatabase.open(url);
      cleanup.push(() => database.close());
      const remembered = await database.loadIdentity();
      const name = options.name ?? remembered?.name;
      if (!name) throw new PeerError('NO_NAME', 'no peer name: give --name (the share folder remembers none)');
      const server = serverKey(options.server);
      const token = remembered && remembered.name === name && sameRegistry(remembered.server, server) && remembered.token
        ? remembered.token
        : await options.tokens?.get(server, name);

      const client = await IndexClient.open({
        server: options.server,
        udpPort: options.udpPort,
        retry: options.retry,
        logger,
        name,
        ...(token ? { token } : {}),
        onMessage: (seen) => peer?.onMessage(seen),
        onConnectBack: (push) => peer?.connectBacks.answer(push),
      });
      cleanup.push(() => client.close());
      const first = serverList(options.server)[0]!;
      const ip = options.host ?? (await addressTowards(first.host, first.port));

      let share: ShareFolder | undefined;
      if (options.share) {
        const opened = await ShareFolder.open({
          dir: options.share,
          files: database.files,
          choices: database.choices,
          mode: options.shareMode ?? 'auto',
          logger,
          onChange: (change) => peer?.announce(change),
          ...(options.onHash ? { onHash: options.onHash } : {}),
          ...options.shareTiming,
        });
        share = opened;
        cleanup.push(() => opened.close());
        await share.sync();
      }
      const fileServer = await startFileServer({
        host: options.listenHost ?? (isIPv6(ip) ? '::' : '0.0.0.0'),
        port: options.tcpPort ?? 0,
        catalog: share ?? NOTHING_SHARED,
        shareDir: share?.dir ?? process.cwd(),
        ...(options.maxUploads === undefined ? {} : { maxUploads: options.maxUploads }),
        logger,
        onUpload: (event) => peer?.emit('upload', event),
      });
      peer = new Peer(name, client, fileServer, database, share, ip, options, logger);
      if (options.relay) {
        const opened = peer;
        peer.relay = await Relay.open({
          askCallback: (...ask) => opened.client.callback(...ask),
          logger, host: isIPv6(ip) ? '::' : '0.0.0.0', ...options.relay,
        });
        cleanup.push(() => opened.relay!.close());
      }
      share?.watch();
      return peer;
    } catch (error) {
      for (const close of cleanup.reverse()) await close().catch(() => {});
      throw error;
    }
  }

  get registration(): RegistrationState {
    return this.state;
  }

  /** Where other peers reach us, as registered. */
  get contact(): Contact {
    return this.client.contact ?? { name: this.name, ip: this.ip, udpPort: this.client.udpPort, tcpPort: this.fileServer.address.port };
  }

  get serverLabel(): string {
    return this.client.serverLabel;
  }

  /**
   * REGISTER (a refresh when the database holds our token), then bring the index in step with the
   * share: whatever it lists for us that we no longer share is removed, the rest published.
   */
  async register(): Promise<void> {
    this.assertRunning();
    await this.client.register({ name: this.name, ip: this.ip, tcpPort: this.fileServer.address.port }, this.relay?.port);
    await this.remember();
    this.setState('registered');
    this.startKeepalive();
    await this.reconcile();
  }

  /** The TCP port this peer relays on (serve --relay), registered as its relayPort. */
  get relayPort(): number | undefined {
    return this.relay?.port;
  }

  /** How the index server sees this peer (from REGISTERED or the last WHO-AM-I); undefined from an older server. */
  get seenAs(): SeenAs | undefined {
    return this.client.seenAs;
  }

  /** DE-REGISTER: the index forgets us and our files. */
  async deregister(): Promise<void> {
    this.assertRunning();
    this.stopKeepalive();
    await this.client.deregister();
    await this.database.forgetToken();
    await this.options.tokens?.forget(serverKey(this.options.server), this.name).catch((error: unknown) => this.logger.warn('peer.token.forget-failed', { error }));
    this.setState('unregistered');
  }

  /** Shares files of the share folder by name (all of them when `names` is empty) and publishes them. */
  async publish(names: readonly string[]): Promise<FileEntry[]> {
    this.assertRegistered('publish');
    const share = this.requireShare('publish');
    const wanted = names.length > 0 ? names : share.available().map((f) => f.name);
    await share.share(wanted);
    const chosen = new Set(wanted.map(indexName));
    return share.entries().filter((entry) => chosen.has(entry.name));
  }

  /** Stops sharing files by name and removes them from the index. */
  async remove(names: readonly string[]): Promise<void> {
    this.assertRegistered('remove');
    if (this.share) await this.share.unshare(names);
    else await this.client.remove(names.map(indexName));
  }

  listPeers(): Promise<PeerListing[]> {
    this.assertRunning();
    return this.client.retrieveAll();
  }

  peerInfo(name: string): Promise<PeerInfo> {
    this.assertRunning();
    return this.client.retrieveInfo(name);
  }

  search(file: string): Promise<FileHolder[]> {
    this.assertRunning();
    return this.client.searchFile(indexName(file));
  }

  /** The files whose names hold every one of `words` (SEARCH-WORDS), best match first. */
  findWords(words: string): Promise<WordMatch[]> {
    this.assertRunning();
    return this.client.searchWords(words);
  }

  /**
   * Asks the index who has `file`, then downloads and verifies it (against FILE-END and what each
   * holder published) into outDir, trying the next holder when one fails.
   */
  async download(file: string, options: DownloadRequestOptions): Promise<DownloadResult> {
    const name = indexName(file);
    const everyone = await this.search(name).catch((error: unknown) => {
      // SEARCH-ERROR: nobody shares it (the course's rule), in the server's own words.
      if (error instanceof IndexClientError && error.code === 'DENIED' && error.reason) throw new PeerError('NO_HOLDER', error.reason, { cause: error });
      throw error;
    });
    const others = everyone.filter((holder) => holder.name !== this.name || holder.name === options.from);
    const holders = options.from === undefined ? others : others.filter((holder) => holder.name === options.from);
    if (holders.length === 0) throw new PeerError('NO_HOLDER', noHolderMessage(name, everyone, options.from, this.name));
    const info: DownloadInfo = { id: this.nextDownloadId++, file: name, startedAt: new Date(), bytes: 0, chunk: 0, holder: holders[0]!.name };
    const sizes = new Set(holders.map((h) => h.size));
    if (sizes.size === 1 && holders[0]!.size !== undefined) info.totalBytes = holders[0]!.size;
    this.downloads.set(info.id, info);
    this.emit('download', { kind: 'started', download: { ...info } });
    // While the download runs, a holder behind a NAT can connect back to it here (see src/reach/).
    const listener = await CallbackListener.open(this.logger, isIPv6(this.ip) ? '::' : '0.0.0.0');
    try {
      const result = await downloadFile({
        openConnection: reachHolders({
          askCallback: (...ask) => this.client.callback(...ask),
          listener,
          logger: this.logger,
          behindNat: () => this.client.seenAs?.behindNat === true,
          relays: async () => (await this.client.retrieveAll()).flatMap((p) => (p.relayPort === undefined || p.name === this.name ? [] : [{ name: p.name, ip: p.ip, relayPort: p.relayPort }])),
        }),
        file: name,
        holders,
        outDir: options.outDir,
        logger: this.logger,
        ...(options.overwrite ? { overwrite: true } : {}),
        ...(options.keepPartial ? { keepPartial: true } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.stallTimeoutMs ? { stallTimeoutMs: options.stallTimeoutMs } : {}),
        ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
        ...(options.maxHolders ? { maxHolders: options.maxHolders } : {}),
        // Holders that joined since are used too; the asker itself never is.
        ...(options.from === undefined ? { findHolders: async () => (await this.search(name)).filter((holder) => holder.name !== this.name) } : {}),
        onHolderDropped: (dropped) => this.emit('download', { kind: 'dropped', download: { ...info }, dropped }),
        onProgress: (progress) => {
          Object.assign(info, progress);
          this.emit('download', { kind: 'progress', download: { ...info } });
        },
      });
      this.emit('download', { kind: 'finished', download: { ...info }, result });
      return result;
    } catch (error) {
      this.emit('download', { kind: 'failed', download: { ...info }, error: error as Error });
      throw error;
    } finally {
      this.downloads.delete(info.id);
      await listener.close();
    }
  }

  /**
   * UPDATE-CONTACT. A new TCP or UDP port is bound before the server is told, so the peer is
   * reachable at what the index lists at every moment; the old socket closes once confirmed.
   */
  async updateContact(changes: { ip?: string; tcpPort?: number; udpPort?: number }): Promise<Contact> {
    this.assertRegistered('update-contact');
    const current = this.contact;
    const movingTcp = changes.tcpPort !== undefined && changes.tcpPort !== this.fileServer.address.port;
    const movingUdp = changes.udpPort !== undefined && changes.udpPort !== this.client.udpPort;
    const fileServer = movingTcp ? await this.startFileServerOn(changes.tcpPort!) : this.fileServer;
    let client = this.client;
    try {
      if (movingUdp) {
        client = await IndexClient.open({
          server: this.options.server, udpPort: changes.udpPort, retry: this.options.retry, logger: this.logger,
          name: this.name, token: this.client.token, onMessage: (seen) => this.onMessage(seen),
          onConnectBack: (push) => this.connectBacks.answer(push),
        });
      }
      const confirmed = await client.updateContact({
        ip: changes.ip ?? current.ip,
        udpPort: client.udpPort,
        tcpPort: fileServer.address.port,
      });
      const [oldClient, oldServer] = [this.client, this.fileServer];
      [this.client, this.fileServer, this.ip] = [client, fileServer, confirmed.ip];
      if (oldClient !== client) await oldClient.close();
      if (oldServer !== fileServer) await oldServer.close();
      return confirmed;
    } catch (error) {
      if (client !== this.client) await client.close();
      if (fileServer !== this.fileServer) await fileServer.close();
      throw error;
    }
  }

  /** Whether the index server answers now (any answer counts, a refusal too). */
  async checkServer(): Promise<boolean> {
    this.assertRunning();
    try {
      await this.client.request({ type: 'SEARCH-FILE', file: 'p2fs-liveness-probe' });
      return true;
    } catch (error) {
      if (error instanceof IndexClientError && error.code === 'TIMEOUT') return false;
      throw error;
    }
  }

  status(): PeerStatus {
    const address = this.fileServer.address;
    return {
      name: this.name,
      server: this.client.serverLabel,
      registration: this.state,
      lastHeardFromServer: this.lastHeard,
      contact: this.contact,
      tcpAddress: isIPv6(address.host) ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`,
      shareDir: this.share?.dir,
      sharedFiles: this.share?.shared().length ?? 0,
      uploads: this.fileServer.uploads(),
      downloads: [...this.downloads.values()].map((d) => ({ ...d })),
    };
  }

  /** Files the peer could share (for completion and the GUI). */
  shareableFiles(): SharedFile[] {
    return this.share?.available() ?? [];
  }

  /**
   * De-registers (when registered) and closes everything. Resolves with the de-registration's
   * failure, if any: the peer is closed either way.
   */
  async stop(): Promise<{ deregisterError?: Error }> {
    if (this.stopped) return {};
    let deregisterError: Error | undefined;
    if (this.state !== 'unregistered') {
      try {
        await this.deregister();
      } catch (error) {
        deregisterError = error as Error;
      }
    }
    this.stopped = true;
    this.stopKeepalive();
    await this.share?.close();
    await this.relay?.close();
    await this.fileServer.close();
    await this.client.close();
    await this.database.close();
    return deregisterError ? { deregisterError } : {};
  }

  /** The share folder's changes, sent to the index while registered (register() reconciles the rest). */
  private async announce(change: ShareChange): Promise<void> {
    if (this.state !== 'registered' && this.state !== 'unreachable') return;
    if (change.publish.length > 0) await this.client.publish(change.publish);
    if (change.remove.length > 0) await this.client.remove(change.remove);
    this.emit('share', change);
  }

  /**
   * Makes the index list exactly what we share. Until it succeeds once after a registration, the
   * keepalive tries again, so a lost answer here cannot leave the index out of step for long.
   */
  private async reconcile(listed?: readonly FileEntry[]): Promise<void> {
    if (!this.share) return;
    this.needsReconcile = true;
    const files = listed ?? (await this.client.retrieveInfo(this.name)).files;
    await this.share.reconcile(files);
    this.needsReconcile = false;
  }

  /** The keepalive: REGISTER again; a new token means the server had forgotten us, so republish. */
  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      const before = this.client.token;
      try {
        await this.client.register({ name: this.name, ip: this.ip, tcpPort: this.fileServer.address.port }, this.relay?.port);
      } catch (error) {
        const denied = error instanceof IndexClientError && error.code === 'DENIED';
        this.setState(denied ? 'refused' : 'unreachable', (error as Error).message);
        return;
      }
      if (this.client.token !== before) {
        const reason = 'the index server had forgotten this peer: registered again';
        this.logger.warn('peer.reregistered', { reason });
        await this.remember();
        this.setState('registered', reason);
        await this.reconcile([]);
        return;
      }
      this.setState('registered');
      if (this.needsReconcile) await this.reconcile();
    })()
      .catch((error) => this.logger.warn('peer.keepalive.failed', { error }))
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private startKeepalive(): void {
    this.stopKeepalive();
    this.keepalive = setInterval(() => void this.refresh(), this.options.keepaliveMs ?? KEEPALIVE_MS).unref();
    this.natKeepalive = setInterval(() => void this.keepMappingOpen(), this.options.natKeepaliveMs ?? NAT_KEEPALIVE_MS).unref();
    // At once, not a period from now: a cluster's other servers cannot push through until it has run.
    void this.keepMappingOpen();
  }

  private stopKeepalive(): void {
    clearInterval(this.keepalive);
    clearInterval(this.natKeepalive);
    this.keepalive = undefined;
    this.natKeepalive = undefined;
  }

  /**
   * Behind a NAT: WHO-AM-I with the token keeps the mapping open, and when the NAT gave us a new one
   * the server's observed address follows it. A lost answer is retried at the next tick. With a
   * cluster's several servers, every one of them gets a WHO-AM-I too, so a push from whichever one a
   * downloader asks gets through the NAT; unless the NAT maps each server to another port, since
   * then each WHO-AM-I would move the shared observed address to its own mapping.
   */
  private async keepMappingOpen(): Promise<void> {
    if (!this.client.seenAs?.behindNat) return;
    try {
      const before = this.client.seenAs;
      const now = await this.client.whoAmI();
      if (!sameMapping(now, before)) {
        this.logger.info('peer.nat.mapping-moved', { from: `${before.observedIp}:${before.observedUdpPort}`, to: `${now.observedIp}:${now.observedUdpPort}` });
      }
      if (this.natMapsPerServer) return;
      const elsewhere = await this.client.whoAmIAtTheOthers();
      const differing = elsewhere.find((seen) => !sameMapping(seen, now));
      if (!differing) return;
      this.natMapsPerServer = true;
      this.logger.warn('peer.nat.mapped-per-server', {
        current: `${now.observedIp}:${now.observedUdpPort}`,
        another: `${differing.observedIp}:${differing.observedUdpPort}`,
        consequence: 'only the current index server can push callbacks through this NAT',
      });
      // The others moved the shared observed address to their own mappings: move it back.
      await this.client.whoAmI();
    } catch (error) {
      this.logger.warn('peer.nat.keepalive-failed', { error });
    }
  }

  private async remember(): Promise<void> {
    const server = serverKey(this.options.server);
    const token = this.client.token ?? '';
    await this.database.saveIdentity({ name: this.name, server, token });
    // The state folder is a convenience: a read-only home must not stop the peer from working.
    if (token) await this.options.tokens?.keep(server, this.name, token).catch((error: unknown) => this.logger.warn('peer.token.keep-failed', { error }));
  }

  private setState(state: RegistrationState, reason?: string): void {
    if (state === this.state && reason === undefined) return;
    this.state = state;
    this.logger.info('peer.registration', { state, ...(reason ? { reason } : {}) });
    this.emit('registration', reason ? { state, reason } : { state });
  }

  private onMessage(seen: MessageSeen): void {
    if (seen.direction === 'received' && !seen.ignored) this.lastHeard = new Date();
    this.emit('message', seen);
  }

  private startFileServerOn(port: number): Promise<FileServer> {
    return startFileServer({
      host: this.options.listenHost ?? (isIPv6(this.ip) ? '::' : '0.0.0.0'),
      port,
      catalog: this.share ?? NOTHING_SHARED,
      shareDir: this.share?.dir ?? process.cwd(),
      ...(this.options.maxUploads === undefined ? {} : { maxUploads: this.options.maxUploads }),
      logger: this.logger,
      onUpload: (event) => this.emit('upload', event),
    });
  }

  private requireShare(operation: string): ShareFolder {
    if (!this.share) throw new PeerError('NO_SHARE', `${operation} needs a share folder: start the peer with --share DIR`);
    return this.share;
  }

  private assertRegistered(operation: string): void {
    this.assertRunning();
    if (this.state === 'unregistered') throw new PeerError('NOT_REGISTERED', `${operation} needs a registration: register first`);
  }

  private assertRunning(): void {
    if (this.stopped) throw new PeerError('STOPPED', 'the peer was stopped');
  }
}

/**
 * The token is only good on the registry that issued it: its servers, as `host:port` joined by
 * commas. A token remembered for a list sharing a server with the one given now is tried again.
 */
const serverKey = (server: ServerAddress | readonly ServerAddress[]) => serverList(server).map(({ host, port }) => `${host}:${port}`).join(',');
const sameRegistry = (a: string, b: string): boolean => a.split(',').some((server) => b.split(',').includes(server));
const sameMapping = (a: SeenAs, b: SeenAs): boolean => a.observedIp === b.observedIp && a.observedUdpPort === b.observedUdpPort;

function noHolderMessage(file: string, everyone: readonly FileHolder[], from: string | undefined, self: string): string {
  const others = everyone.filter((h) => h.name !== self).map((h) => h.name);
  if (from === undefined) return others.length === 0 && everyone.length > 0 ? `only this peer (${self}) shares ${JSON.stringify(file)}` : `nobody shares ${JSON.stringify(file)}`;
  const alternatives = others.length > 0 ? ` (it is shared by ${others.join(', ')})` : '';
  return `peer ${JSON.stringify(from)} does not share ${JSON.stringify(file)}${alternatives}`;
}
