/**
 * Whom to steal from: a random victim, biased toward loaded peers by the gossiped estimates,
 * and how much to take: the oldest half, in one batch.
 *
 * @module
 */

/**
 * Pick a victim at random with probability proportional to its load estimate; peers that
 * report nothing to steal are never picked. Returns undefined when no peer has work.
 *
 * @param loads gossiped load estimate (stealable tasks) per peer id
 * @param random a source of numbers in [0, 1)
 * @param min only peers reporting at least this many tasks are candidates (1: any work)
 */
export function pickVictim(
  loads: ReadonlyMap<string, number>,
  random: () => number = Math.random,
  min = 1,
): string | undefined {
  let total = 0;
  for (const n of loads.values()) if (n >= min) total += n;
  if (total === 0) return undefined;
  let r = random() * total;
  let last: string | undefined;
  for (const [id, n] of loads) {
    if (n < min) continue;
    last = id;
    r -= n;
    if (r < 0) return id;
  }
  return last;
}

/** How many of `queued` tasks a thief gets: half, rounded up (so a lone task moves too). */
export function stealCount(queued: number): number {
  return Math.ceil(queued / 2);
}

/**
 * Whether a change of our stealable count from `sent` (last gossiped) to `now` is worth
 * telling the mesh: crossing zero always is, otherwise only a doubling or halving.
 */
export function worthGossiping(sent: number, now: number): boolean {
  if (now === sent) return false;
  if ((sent === 0) !== (now === 0)) return true;
  return now >= sent * 2 || now * 2 <= sent;
}
