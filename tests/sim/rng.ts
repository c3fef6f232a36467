/**
 * A seeded generator for the simulator: sfc32 (Chris Doty-Humphrey's Small Fast Chaotic PRNG,
 * as in PractRand), seeded through splitmix32. One seed gives one run, exactly.
 *
 * @module
 */

/** Numbers in [0, 1) from `seed`; the same seed gives the same sequence on every runtime. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split(), b = split(), c = split(), d = split();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

/** A generator derived from `random` (for a part of the simulation that must not shift others). */
export function fork(random: () => number): () => number {
  return seeded(Math.floor(random() * 4294967296));
}
