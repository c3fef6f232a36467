/**
 * A tiny seeded generator for the examples: the same seed gives the same numbers on every peer
 * and on Bun and Deno alike, so their output can be checked.
 *
 * @module
 */

/** mulberry32: returns a function that yields floats in [0, 1) from the 32-bit `seed`. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [lo, hi], both included, from `random`. */
export function randint(random: () => number, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}
