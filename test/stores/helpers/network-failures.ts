// What a networked store must do when the network fails: refuse to open, or fail each call, quickly
// and with a StoreError naming the store; never hang, never crash the process, never report success.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openStore } from '../../../src/stores/index.js';
import { isStoreError, uniqueNamespace } from './store-contract.js';
import type { Service } from './services.js';
import { closedPort, startTcpProxy } from './tcp-proxy.js';

/** Fast enough for a test, slow enough for a loaded machine to open a connection. */
const TIMEOUT_MS = 3000;

function withPort(url: string, port: number): string {
  const moved = new URL(url);
  moved.hostname = '127.0.0.1';
  moved.port = String(port);
  return moved.href;
}

/**
 * Lets the store's idle connections read the end of their cut sockets. Nothing outside the driver
 * signals it, so this waits out a few event-loop turns: the closes are already in the kernel when
 * cut() resolves, and one poll phase delivers them. Without this, the next call might race the
 * close instead of testing what happens to a connection that died while idle (a server restart).
 */
function dropNoticed(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

export function networkFailures(target: Service): void {
  describe(`${target.name} store: network failures`, { skip: target.skip }, () => {
    test('opening with nothing listening rejects with STORE_UNAVAILABLE naming the URL', async () => {
      const url = withPort(target.url, await closedPort());
      const started = performance.now();
      await assert.rejects(
        openStore(url, uniqueNamespace(), { timeoutMs: TIMEOUT_MS }),
        isStoreError('STORE_UNAVAILABLE', /could not open.*ECONNREFUSED/),
      );
      assert.ok(performance.now() - started < TIMEOUT_MS, 'refused at once, not after the deadline');
    });

    test('a connection cut mid-life makes calls reject, and the process lives on', async () => {
      const { hostname, port } = new URL(target.url);
      const proxy = await startTcpProxy({ host: hostname, port: Number(port) });
      const namespace = uniqueNamespace();
      const store = await openStore<{ n: number }>(withPort(target.url, proxy.port), namespace, { timeoutMs: TIMEOUT_MS });
      try {
        await store.set('before', { n: 1 });
        assert.deepEqual(await store.get('before'), { n: 1 });
        await proxy.cut();
        await dropNoticed();
        await assert.rejects(store.set('after', { n: 2 }), isStoreError('STORE_UNAVAILABLE', /commit of 1 write\(s\) failed/));
        await assert.rejects(store.get('before'), isStoreError('STORE_UNAVAILABLE', /get\("before"\) failed/));
      } finally {
        await store.close().catch(() => {}); // its connection is gone: only the calls above matter
      }
      const direct = await openStore<{ n: number }>(target.url, namespace);
      assert.deepEqual(await direct.entries(), [['before', { n: 1 }]]);
      await direct.clear();
      await direct.close();
    });
  });
}
