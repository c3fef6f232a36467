/**
 * Grids across hosts: three network namespaces on a bridge (tests/lab/netns.ts), each a host
 * with an address of its own, and real peer processes in them. Needs root; elsewhere the cases
 * are skipped, and the reason printed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import process from "node:process";
import { join } from "node:path";
import { Lab, labProblem, NET } from "../lab/netns.ts";
import { FIXTURES, killAll, lastJson, noneLeft, start } from "./_harness.ts";

const FIXTURE = join(FIXTURES, "api-fixture.ts");
const TIMEOUT = 120_000;
const problem = labProblem();
if (problem !== undefined) process.stderr.write(`skipped: the LAN tests: ${problem}\n`);

describe.skipIf(problem !== undefined)("a LAN of three hosts (network namespaces)", () => {
  const lab = new Lab("sclan", 3);
  beforeAll(() => {
    lab.up();
  });
  afterAll(() => {
    killAll();
    lab.down();
  });

  test(
    "a key and nothing else: joiners (Bun, Deno) find the origin over mDNS; one job spans all three hosts",
    async () => {
      const env = { SCOOP_SECRET: "lan test key one" };
      // The joiners start first: they wait for the job.
      const bunJoiner = start(["--join", "--once", FIXTURE], {
        env,
        prefix: lab.on(1, []),
        runtime: "bun",
      });
      const denoJoiner = start(["--join", "--once", FIXTURE], {
        env,
        prefix: lab.on(2, []),
        runtime: "deno",
      });
      const origin = start(["-n", "1", FIXTURE, "lanJob", "3", "90"], {
        env,
        prefix: lab.on(0, []),
      });
      expect(await origin.exited).toBe(0);
      expect(lastJson(origin.stdout)).toEqual({
        hosts: [`${NET}.1`, `${NET}.2`, `${NET}.3`],
        n: 90,
      });
      // The origin says, in one line, how to join it (never the key).
      expect(origin.stderr).toMatch(
        new RegExp(
          `scoop: grid "scoop" is open \\(found over mDNS.*SCOOP_SECRET=… .* --join --bootstrap /ip4/${
            NET.replaceAll(".", "\\.")
          }\\.1/tcp/\\d+/p2p/\\w+ `,
        ),
      );
      expect(origin.stderr).not.toContain("lan test key one");
      expect(await bunJoiner.exited).toBe(0);
      expect(await denoJoiner.exited).toBe(0);
      for (const p of [origin, bunJoiner, denoJoiner]) expect(await noneLeft(p.tag)).toEqual([]);
    },
    TIMEOUT,
  );

  test("--join -n 2 starts two joiners on one host; --once, they leave with the job", async () => {
    const env = { SCOOP_SECRET: "lan test key two" };
    const joiners = start(["--join", "-n", "2", "--once", FIXTURE], { env, prefix: lab.on(1, []) });
    const origin = start(["-n", "1", FIXTURE, "lanJob", "3", "60"], { env, prefix: lab.on(0, []) });
    expect(await origin.exited).toBe(0);
    // Three peers took part (the job waited for them), on two hosts.
    expect(lastJson(origin.stdout)).toEqual({ hosts: [`${NET}.1`, `${NET}.2`], n: 60 });
    expect(await joiners.exited).toBe(0);
    for (const p of [origin, joiners]) expect(await noneLeft(p.tag)).toEqual([]);
  }, TIMEOUT);

  test("two grids with other keys on one bridge never even dial each other", async () => {
    const a = { SCOOP_SECRET: "grid a key" };
    const b = { SCOOP_SECRET: "grid b key" };
    const procs = [
      start(["-v", "--join", "--once", FIXTURE], { env: a, prefix: lab.on(1, []) }),
      start(["-v", "--join", "--once", FIXTURE], { env: b, prefix: lab.on(0, []) }),
    ];
    const originA = start(["-v", "-n", "1", FIXTURE, "lanJob", "2", "40"], {
      env: a,
      prefix: lab.on(0, []),
    });
    const originB = start(["-v", "-n", "1", FIXTURE, "lanJob", "2", "40"], {
      env: b,
      prefix: lab.on(2, []),
    });
    expect(await originA.exited).toBe(0);
    expect(await originB.exited).toBe(0);
    expect(lastJson(originA.stdout)).toEqual({ hosts: [`${NET}.1`, `${NET}.2`], n: 40 });
    expect(lastJson(originB.stdout)).toEqual({ hosts: [`${NET}.1`, `${NET}.3`], n: 40 });
    for (const p of procs) expect(await p.exited).toBe(0);
    for (const p of [...procs, originA, originB]) {
      // No handshake with the other grid was even tried.
      expect(p.stderr).not.toMatch(/refused|handshake|decrypt|Encryption|identity key/i);
      expect(await noneLeft(p.tag)).toEqual([]);
    }
  }, TIMEOUT);

  test("a wrong key is refused in one line at the handshake", async () => {
    const origin = start(["-v", "-n", "1", FIXTURE, "lanJob", "2", "10"], {
      env: { SCOOP_SECRET: "the right key" },
      prefix: lab.on(0, []),
    });
    const [, addr] = await origin.waitFor(/--bootstrap (\/ip4\/\S+\/p2p\/\w+)/);
    const wrong = start(["--join", "--no-mdns", "--bootstrap", addr, FIXTURE], {
      env: { SCOOP_SECRET: "a wrong key" },
      prefix: lab.on(1, []),
    });
    expect(await wrong.exited).toBe(1);
    expect(wrong.stderr).toMatch(
      /scoop: error: Cannot join the grid at \S+: the handshake failed: does this peer have the grid's key\?/,
    );
    // The grid goes on: a right joiner ends the job.
    const right = start(["--join", "--once", FIXTURE], {
      env: { SCOOP_SECRET: "the right key" },
      prefix: lab.on(2, []),
    });
    expect(await origin.exited).toBe(0);
    expect(await right.exited).toBe(0);
    for (const p of [origin, wrong, right]) expect(await noneLeft(p.tag)).toEqual([]);
  }, TIMEOUT);
});
