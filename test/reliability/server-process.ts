// The index server as a real process (scripts/server.ts), for tests that kill it with SIGKILL:
// only a separate process dies the way a crashed or powered-off server does, mid-write.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerProcess {
  readonly child: ChildProcess;
  /** The start line's "loaded N peers, M files". */
  readonly loaded: { peers: number; files: number };
  /** Everything the process wrote to stderr so far (its log lines at the level asked). */
  readonly stderr: () => string;
  /** Resolves with how the process ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL, resolved once the process is gone (its port is free again). */
  kill9(): Promise<void>;
  /** SIGTERM, resolved with how it ended. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A UDP port free on 127.0.0.1 right now: the restarted server must come back on the same one. */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const { port } = socket.address();
  await new Promise<void>((done) => socket.close(() => done()));
  return port;
}

export interface ServerProcessOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** A command the server runs under, e.g. `ip netns exec NS` (it must exec, so the pid stays the server's). */
  wrap?: string[];
  timeoutMs?: number;
  /** More flags, after the defaults (a flag given twice takes its last value): e.g. ['--expire-after', '3s']. */
  args?: string[];
}

/** Starts `node --import tsx scripts/server.ts` and resolves once it printed its start line. */
export async function startServerProcess(port: number, db: string, options: ServerProcessOptions = {}): Promise<ServerProcess> {
  const { host = '127.0.0.1', wrap = [], timeoutMs = 20_000, args = [] } = options;
  const command = [
    ...wrap, process.execPath, '--import', 'tsx', 'scripts/server.ts', '--host', host, '--port', String(port), '--db', db,
    '--rate', '0', '--expire-after', '0', '--log-level', 'error', ...args,
  ];
  const child = spawn(command[0]!, command.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const loaded = await new Promise<{ peers: number; files: number }>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => fail(`no start line within ${timeoutMs} ms`), timeoutMs);
    const onExit = (code: number | null, signal: string | null) => fail(`exited (${signal ?? code}) before its start line`);
    const fail = (why: string) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      child.kill('SIGKILL');
      reject(new Error(`index server on port ${port}: ${why}\nstdout: ${stdout}\nstderr: ${stderr}`));
    };
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      const line = /listening on udp \S+:(\d+) .*loaded (\d+) peers, (\d+) files/.exec(stdout);
      if (!line) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      if (Number(line[1]) !== port) return fail(`bound port ${line[1]}, asked for ${port}`);
      resolve({ peers: Number(line[2]), files: Number(line[3]) });
    });
    child.once('exit', onExit);
  });
  return {
    child,
    loaded,
    stderr: () => stderr,
    exited,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
