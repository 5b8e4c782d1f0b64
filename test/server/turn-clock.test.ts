// The turn clock: one reading shared by everything in a turn of the event loop, a fresh one after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { turnClock } from '../../src/server/replies/turn-clock.js';

test('the turn clock reads the time once per turn of the event loop', async () => {
  await nextTurn();
  const first = turnClock();
  const spinUntil = performance.now() + 2;
  while (performance.now() < spinUntil);
  assert.equal(turnClock(), first, 'the same turn, the same reading');
  await nextTurn();
  await nextTurn();
  const later = turnClock();
  assert.ok(later >= first + 2, `a later turn reads the clock again (${first} then ${later})`);
  assert.ok(Math.abs(later - performance.now()) < 1000);
});
