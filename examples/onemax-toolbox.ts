/**
 * OneMax written the way DEAP users write it: every operator goes into a toolbox as a partial
 * (`toolbox.register("mutate", mutFlipBit, INDPB)`), the toolbox's `map` is `futures.map`, and
 * the generation loop only calls `toolbox.map(toolbox.evaluate, …)`. Partials are values like
 * any other: evaluation and mutation run on every peer, their bound arguments travelling with
 * them. Seeded, so every run prints the same.
 *
 *     bun cli.ts -n 4 examples/onemax-toolbox.ts [generations=40] [population=300] [bits=100]
 */
import { futures, partial, run } from "../mod.ts";
import { mulberry32, randint } from "./_random.ts";

type Individual = number[];
// deno-lint-ignore no-explicit-any
type Operator = (...args: any[]) => any;

/** DEAP's `base.Toolbox`: operators registered under an alias, their first arguments fixed. */
class Toolbox {
  readonly #ops = new Map<string, Operator>();
  map = futures.map;

  register(alias: string, fn: Operator, ...args: unknown[]): void {
    this.#ops.set(alias, partial(fn, ...args));
  }

  get(alias: string): Operator {
    return this.#ops.get(alias)!;
  }
}

/** The fitness: how many ones. */
export function evalOneMax(individual: Individual): number {
  return individual.reduce((a, b) => a + b, 0);
}

/** Flip each bit with probability `indpb`, drawing from a generator seeded by `seed`. */
export function mutFlipBit(indpb: number, individual: Individual, seed: number): Individual {
  const random = mulberry32(seed);
  return individual.map((bit) => random() < indpb ? 1 - bit : bit);
}

/** Swap the segment between two random points of `a` and `b`, in place. */
export function cxTwoPoint(random: () => number, a: Individual, b: Individual): void {
  let p1 = randint(random, 1, a.length);
  let p2 = randint(random, 1, a.length - 1);
  if (p2 >= p1) p2++;
  else [p1, p2] = [p2, p1];
  for (let i = p1; i < p2; i++) [a[i], b[i]] = [b[i], a[i]];
}

/** Pick `k` indices, each the fittest of `size` aspirants drawn at random. */
export function selTournament(
  size: number,
  random: () => number,
  fit: number[],
  k: number,
): number[] {
  const draw = () => randint(random, 0, fit.length - 1);
  const fittest = (best: number, i: number) => fit[i] > fit[best] ? i : best;
  return Array.from({ length: k }, () => Array.from({ length: size }, draw).reduce(fittest));
}

export async function main(args: string[]): Promise<number> {
  const [ngen, n, bits] = [Number(args[0] ?? 40), Number(args[1] ?? 300), Number(args[2] ?? 100)];
  const [CXPB, MUTPB] = [0.5, 0.2];
  const random = mulberry32(64);
  const toolbox = new Toolbox();
  toolbox.register("evaluate", evalOneMax);
  toolbox.register("mate", cxTwoPoint, random);
  toolbox.register("mutate", mutFlipBit, 0.05);
  toolbox.register("select", selTournament, 3, random);

  let pop = Array.from(
    { length: n },
    () => Array.from({ length: bits }, () => randint(random, 0, 1)),
  );
  let fit = await toolbox.map(toolbox.get("evaluate"), pop);
  console.log(`gen 0: max ${Math.max(...fit)}`);
  for (let gen = 1; gen <= ngen; gen++) {
    const chosen: number[] = toolbox.get("select")(fit, n);
    const offspring = chosen.map((i) => pop[i].slice());
    const offFit: (number | undefined)[] = chosen.map((i) => fit[i]);
    for (let i = 1; i < n; i += 2) {
      if (random() < CXPB) {
        toolbox.get("mate")(offspring[i - 1], offspring[i]);
        offFit[i - 1] = offFit[i] = undefined;
      }
    }
    const mutants = offspring.flatMap((_, i) => random() < MUTPB ? [i] : []);
    const mutated = await toolbox.map(
      toolbox.get("mutate"),
      mutants.map((i) => offspring[i]),
      mutants.map(() => randint(random, 0, 2 ** 31)),
    );
    mutants.forEach((i, k) => [offspring[i], offFit[i]] = [mutated[k], undefined]);
    const invalid = offspring.flatMap((_, i) => offFit[i] === undefined ? [i] : []);
    const fresh = await toolbox.map(toolbox.get("evaluate"), invalid.map((i) => offspring[i]));
    invalid.forEach((i, k) => offFit[i] = fresh[k]);
    [pop, fit] = [offspring, offFit as number[]];
    console.log(`gen ${gen}: ${invalid.length} evaluated, max ${Math.max(...fit)}`);
  }
  const best = Math.max(...fit);
  console.log(`Best fitness ${best} of ${bits}`);
  return best;
}

if (import.meta.main) run(main);
