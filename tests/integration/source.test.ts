/**
 * Lambdas sent as their source on real grids: one that mixes Bun and Deno peers, and peers
 * started with --no-source. (Every other case of functions as values: api.test.ts.)
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { FIXTURES, lastJson, noneLeft, RUNTIME, scratch, start } from "./_harness.ts";

const FIXTURE = join(FIXTURES, "api-fixture.ts");
const TIMEOUT = 120_000;
const OTHER = RUNTIME === "bun" ? "deno" : "bun";
const { secret, cleanup } = scratch("source", "5c");

afterAll(cleanup);

/** An origin of the runtime under test on loopback, and where it listens. */
async function origin(args: string[]) {
  const p = start(["-v", "--no-mdns", "--secret-file", secret, ...args]);
  const [, addr] = await p.waitFor(/listening on (\/ip4\/\S+\/p2p\/\S+)/);
  return { p, addr };
}

describe("lambdas sent as their source", () => {
  test(`a grid of ${RUNTIME} and ${OTHER} peers: each compiles what the other sent`, async () => {
    const { p, addr } = await origin(["-n", "2", FIXTURE, "lambdas"]);
    const joiner = start(["--join", "--bootstrap", addr, "--secret-file", secret, FIXTURE], {
      runtime: OTHER,
    });
    expect(await p.exited).toBe(0);
    const out = lastJson(p.stdout);
    expect(out).toMatchObject({ squares: 9455, asArg: 81, partial: 930, shared: ["8,512"] });
    expect(out.sharedPeers).toBe(3);
    expect(out.nested).toEqual([90]);
    const runtimes = new Set(out.squaresRanBy.map((who: string) => who.split(" ")[0]));
    expect([...runtimes].sort()).toEqual(["bun", "deno"]);
    expect(await noneLeft(p.tag)).toEqual([]);
    expect(await noneLeft(joiner.tag)).toEqual([]);
  }, TIMEOUT);

  test("--no-source: every peer the launcher starts refuses to send a lambda", async () => {
    const { p } = await origin(["-n", "2", "--no-source", FIXTURE, "noSourceEverywhere"]);
    expect(await p.exited).toBe(0);
    expect(lastJson(p.stdout)).toEqual({
      registered: 14,
      refused: [
        "TypeError: Cannot submit an anonymous function: this peer was started with --no-source: no function travels as its source",
      ],
      peers: 2,
    });
    expect(await noneLeft(p.tag)).toEqual([]);
  }, TIMEOUT);

  test("a --no-source joiner fails the lambdas it takes, naming why; the rest run", async () => {
    const { p, addr } = await origin(["-n", "1", FIXTURE, "lambdaOnJoiner"]);
    const joiner = start([
      "--join",
      "--no-source",
      "--bootstrap",
      addr,
      "--secret-file",
      secret,
      FIXTURE,
    ]);
    expect(await p.exited).toBe(0);
    const out = lastJson(p.stdout);
    expect(out).toEqual({
      failures: ["Error: this peer was started with --no-source: it runs no task sent as source"],
      failedOn: [expect.any(String)],
      succeeded: true,
    });
    expect(addr.endsWith(`/p2p/${out.failedOn[0]}`)).toBe(false); // the joiner, not the origin
    expect(await noneLeft(p.tag)).toEqual([]);
    expect(await noneLeft(joiner.tag)).toEqual([]);
  }, TIMEOUT);
});
