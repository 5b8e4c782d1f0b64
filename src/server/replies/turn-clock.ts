// The time as of this turn of the event loop. Reading the clock costs ~25 ns on this kind of VM (a
// sixth of what keeping a read's reply costs), and a turn handles up to 32 datagrams: they share one
// reading. Good for lifetimes in seconds, not for measuring anything within a turn.

let reading: number | undefined;
const forget = () => {
  reading = undefined;
};

/** Milliseconds on performance.now()'s clock, read at most once per turn of the event loop. */
export function turnClock(): number {
  if (reading === undefined) {
    reading = performance.now();
    setImmediate(forget);
  }
  return reading;
}
