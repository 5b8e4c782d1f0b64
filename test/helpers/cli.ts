// The peer's command line as real processes (`p2fs`, that is scripts/peer.ts under tsx), each with an
// environment of its own: a temporary state folder (where tokens are kept per name), and none of the
// P2FS_* variables of whoever runs the tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const PEER_SCRIPT = join(ROOT, 'scripts', 'peer.ts');
/** tsx as an absolute URL, so a process may run from any folder. */
export const TSX = import.meta.resolve('tsx');

/** One state folder for the processes of this test file, removed when it ends. */
const STATE = mkdtempSync(join(tmpdir(), 'p2fs-test-state-'));
process.on('exit', () => rmSync(STATE, { recursive: true, force: true }));

/** The environment a test's peer runs in: this file's state folder, no inherited P2FS_* settings. */
export function peerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('P2FS_')));
  return { ...env, P2FS_STATE_DIR: STATE, ...extra };
}

export interface PeerProcess {
  child: ChildProcess;
  /** Everything written so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the first match of `pattern` in stdout (or stderr), rejects if the process exits first. */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr'): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface PeerProcessOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Killed with SIGKILL when this test ends, if still running. */
  t?: TestContext;
  /** A command the peer runs under, e.g. `ip netns exec NS` (it must exec, so the pid stays the peer's). */
  wrap?: string[];
}

export function startPeerProcess(args: string[], options: PeerProcessOptions = {}): PeerProcess {
  const [command, ...prefix] = [...(options.wrap ?? []), process.execPath];
  const child = spawn(command!, [...prefix, '--import', TSX, PEER_SCRIPT, ...args], {
    cwd: options.cwd ?? ROOT,
    env: peerEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  options.t?.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const output = { stdout: '', stderr: '' };
  const waiters = new Set<() => void>();
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]!.setEncoding('utf8').on('data', (text: string) => {
      output[stream] += text;
      for (const wake of waiters) wake();
    });
  }
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return {
    child,
    get stdout() {
      return output.stdout;
    },
    get stderr() {
      return output.stderr;
    },
    exited,
    waitFor(pattern, stream = 'stdout') {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output[stream]);
          if (!match) return;
          waiters.delete(check);
          resolve(match);
        };
        waiters.add(check);
        check();
        void exited.then(({ code, signal }) => {
          if (!waiters.has(check)) return;
          waiters.delete(check);
          reject(new Error(`the peer exited (${signal ?? code}) before printing ${pattern}\nstdout: ${output.stdout}\nstderr: ${output.stderr}`));
        });
      });
    },
  };
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a peer command to its end, with `input` on its stdin. */
export async function runPeer(args: string[], input = '', options: PeerProcessOptions = {}): Promise<Finished> {
  const peer = startPeerProcess(args, options);
  peer.child.stdin!.end(input);
  const { code } = await peer.exited;
  return { code, stdout: peer.stdout, stderr: peer.stderr };
}

export async function tempDir(t: TestContext, name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `p2fs-cli-${name}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export const noStackTrace = (text: string): void => assert.doesNotMatch(text, /^\s+at .+:\d+:\d+\)?$/m, `no stack trace expected in:\n${text}`);
