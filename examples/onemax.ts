/**
 * OneMax with a genetic algorithm, the way DEAP users run it on SCOOP (SCOOP's
 * `deap_ga_onemax.py`, DEAP's `eaSimple`): a population of bit lists evolves by tournament
 * selection, two-point crossover and flip-bit mutation toward the list of all ones. The fitness,
 * the number of ones, is evaluated with `futures.map` — the one line that makes it parallel.
 * Each generation prints DEAP's statistics; the generator is seeded, so every run is the same.
 *
 *     bun cli.ts -n 4 examples/onemax.ts [generations=40] [population=300] [bits=100]
 */
import { futures, run } from "../mod.ts";
import { mulberry32, randint } from "./_random.ts";

type Individual = number[];

/** Probability of mating two neighbours, of mutating one, and of flipping each of its bits. */
const CXPB = 0.5;
const MUTPB = 0.2;
const INDPB = 0.05;
const TOURNSIZE = 3;

/** The fitness: how many ones. */
export function evalOneMax(individual: Individual): number {
  let ones = 0;
  for (const bit of individual) ones += bit;
  return ones;
}

/** Pick `k` individuals, each the fittest of `TOURNSIZE` drawn at random. */
function selTournament(
  random: () => number,
  pop: Individual[],
  fit: number[],
  k: number,
): number[] {
  return Array.from({ length: k }, () => {
    let best = randint(random, 0, pop.length - 1);
    for (let t = 1; t < TOURNSIZE; t++) {
      const other = randint(random, 0, pop.length - 1);
      if (fit[other] > fit[best]) best = other;
    }
    return best;
  });
}

/** Swap the segment between two random points of `a` and `b`, in place. */
function cxTwoPoint(random: () => number, a: Individual, b: Individual): void {
  const size = Math.min(a.length, b.length);
  let p1 = randint(random, 1, size);
  let p2 = randint(random, 1, size - 1);
  if (p2 >= p1) p2++;
  else [p1, p2] = [p2, p1];
  for (let i = p1; i < p2; i++) [a[i], b[i]] = [b[i], a[i]];
}

/** Flip each bit with probability `INDPB`, in place. */
function mutFlipBit(random: () => number, ind: Individual): void {
  for (let i = 0; i < ind.length; i++) if (random() < INDPB) ind[i] = 1 - ind[i];
}

function stats(fit: number[]): { avg: number; std: number; min: number; max: number } {
  const avg = fit.reduce((a, b) => a + b, 0) / fit.length;
  const std = Math.sqrt(fit.reduce((a, b) => a + (b - avg) ** 2, 0) / fit.length);
  return { avg, std, min: Math.min(...fit), max: Math.max(...fit) };
}

function logLine(gen: number, nevals: number, fit: number[]): void {
  const s = stats(fit);
  console.log(
    [gen, nevals, s.avg.toFixed(4), s.std.toFixed(4), s.min, s.max].join("\t"),
  );
}

export async function main(args: string[]): Promise<Individual> {
  const ngen = Number(args[0] ?? 40);
  const n = Number(args[1] ?? 300);
  const bits = Number(args[2] ?? 100);
  const random = mulberry32(64);

  let pop: Individual[] = Array.from(
    { length: n },
    () => Array.from({ length: bits }, () => randint(random, 0, 1)),
  );
  let fit = await futures.map(evalOneMax, pop);
  let best = { ind: pop[0], fitness: -1 };
  const hallOfFame = () => {
    for (let i = 0; i < pop.length; i++) {
      if (fit[i] > best.fitness) best = { ind: pop[i].slice(), fitness: fit[i] };
    }
  };
  hallOfFame();
  console.log(["gen", "nevals", "avg", "std", "min", "max"].join("\t"));
  logLine(0, n, fit);

  for (let gen = 1; gen <= ngen; gen++) {
    // Select, clone, then vary: an offspring that mates or mutates loses its fitness.
    const chosen = selTournament(random, pop, fit, n);
    const offspring = chosen.map((i) => pop[i].slice());
    const offFit: (number | undefined)[] = chosen.map((i) => fit[i]);
    for (let i = 1; i < n; i += 2) {
      if (random() < CXPB) {
        cxTwoPoint(random, offspring[i - 1], offspring[i]);
        offFit[i - 1] = offFit[i] = undefined;
      }
    }
    for (let i = 0; i < n; i++) {
      if (random() < MUTPB) {
        mutFlipBit(random, offspring[i]);
        offFit[i] = undefined;
      }
    }
    const invalid = offspring.flatMap((_, i) => offFit[i] === undefined ? [i] : []);
    const fresh = await futures.map(evalOneMax, invalid.map((i) => offspring[i]));
    invalid.forEach((i, k) => offFit[i] = fresh[k]);
    pop = offspring;
    fit = offFit as number[];
    hallOfFame();
    logLine(gen, invalid.length, fit);
  }
  console.log(`Best individual has fitness ${best.fitness} of ${bits}: ${best.ind.join("")}`);
  return best.ind;
}

if (import.meta.main) run(main);
