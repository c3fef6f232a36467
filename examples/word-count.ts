/**
 * mapReduce over words: count the words of a text, one task per line, the per-line counts merged
 * by a tree of reductions (SCOOP's `futures.mapReduce` with a reduction other than a sum). The
 * text is the opening of *A Tale of Two Cities*.
 *
 *     bun cli.ts -n 4 examples/word-count.ts [copies=1]
 */
import { futures, run } from "../mod.ts";

const TEXT = `It was the best of times, it was the worst of times,
it was the age of wisdom, it was the age of foolishness,
it was the epoch of belief, it was the epoch of incredulity,
it was the season of Light, it was the season of Darkness,
it was the spring of hope, it was the winter of despair,
we had everything before us, we had nothing before us,
we were all going direct to Heaven, we were all going direct the other way`;

/** The map: how many times each word appears in one line, case folded. */
export function countWords(line: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of line.toLowerCase().match(/[a-z']+/g) ?? []) {
    counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts;
}

/** The reduction: add two counts together. */
export function mergeCounts(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  const out = new Map(a);
  for (const [word, n] of b) out.set(word, (out.get(word) ?? 0) + n);
  return out;
}

export async function main(args: string[]): Promise<Map<string, number>> {
  const copies = Number(args[0] ?? 1);
  const lines = Array.from({ length: copies }, () => TEXT.split("\n")).flat();
  const counts = await futures.mapReduce(countWords, mergeCounts, lines);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const top = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 5);
  console.log(`${total} words, ${counts.size} distinct, in ${lines.length} lines`);
  console.log(`most frequent: ${top.map(([w, n]) => `${w}=${n}`).join(" ")}`);
  return counts;
}

if (import.meta.main) run(main);
