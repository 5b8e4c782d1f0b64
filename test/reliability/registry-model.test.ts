// The checker must be able to fail: each wrong answer or lost mutation the scenarios look for,
// shown to the model directly, is reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryModel } from './registry-model.js';

const IP = '127.0.0.1';

function oneRegisteredPeer() {
  const model = new RegistryModel();
  const peer = model.add('alice');
  peer.udpPort = 5000;
  model.registered(peer, 7000, true);
  model.published(peer, [{ name: 'a', size: 1 }, { name: 'b', size: 2 }], true, 1);
  return { model, peer };
}
const stored = (files: Array<{ name: string; size: number }>, tcpPort = 7000) => [{ name: 'alice', ip: IP, udpPort: 5000, tcpPort, files }];

test('registry model: the final registry matching the acknowledgements passes', () => {
  const { model } = oneRegisteredPeer();
  assert.equal(model.checkFinal(stored([{ name: 'a', size: 1 }, { name: 'b', size: 2 }]), IP), 0);
  assert.deepEqual(model.violations, []);
});

test('registry model: an acknowledged file missing is counted lost; a duplicate, an unknown file, a stale port are violations', () => {
  const { model } = oneRegisteredPeer();
  assert.equal(model.checkFinal(stored([{ name: 'a', size: 1 }]), IP), 1);
  const again = oneRegisteredPeer().model;
  again.checkFinal(stored([{ name: 'a', size: 1 }, { name: 'a', size: 1 }, { name: 'b', size: 2 }, { name: 'zzz', size: 9 }], 7001), IP);
  assert.equal(again.violations.length, 3, again.violations.join('\n'));
});

test('registry model: a timed-out PUBLISH may be applied wholly or not at all, never half', () => {
  for (const [files, violations] of [[[], 0], [['x', 'y'], 0], [['x'], 1]] as const) {
    const { model, peer } = oneRegisteredPeer();
    model.published(peer, [{ name: 'x', size: 3 }, { name: 'y', size: 4 }], false, 2);
    const sizes: Record<string, number> = { x: 3, y: 4 };
    model.checkFinal(stored([{ name: 'a', size: 1 }, { name: 'b', size: 2 }, ...files.map((name) => ({ name, size: sizes[name]! }))]), IP);
    assert.equal(model.violations.length, violations, `${files.join(',')}: ${model.violations.join('\n')}`);
  }
});

test('registry model: SEARCH-FILE leaving out a stable holder, or listing a removed one, is a wrong answer', () => {
  const { model, peer } = oneRegisteredPeer();
  const stable = model.stableSince(model.mark());
  model.checkSearch('q1', 'a', [], stable, IP);
  model.removed(peer, ['b'], true, 3);
  model.checkSearch('q2', 'b', [{ name: 'alice', ip: IP, tcpPort: 7000, size: 2 }], stable, IP);
  model.checkSearch('q3', 'a', [{ name: 'alice', ip: IP, tcpPort: 7000, size: 1 }], stable, IP);
  assert.equal(model.violations.length, 2, model.violations.join('\n'));
});
