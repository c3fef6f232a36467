/**
 * Grids across hosts: three network namespaces on a bridge (tests/lab/netns.ts), each a host
 * with an address of its own, and real peer processes in them. Needs root; elsewhere the cases
 * are skipped, and the reason printed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import process from "node:process";
import { join } from "node:path";
import { Lab, labProblem, NET } from "../lab/netns.ts";
import { readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { FIXTURES, lastJson, noneLeft, ROOT, scratch, start } from "./_harness.ts";

const FIXTURE = join(FIXTURES, "api-fixture.ts");
const TIMEOUT = 120_000;

/** A module of the app's own, next to it (it travels in the bundle). */
const WHERE_TS = `
import { networkInterfaces } from "os";
export const via = "where.ts";
/** The IPv4 address of this host on the LAN (not loopback), after \`ms\`. */
export async function hostOf(ms: number): Promise<string> {
  await new Promise((r) => setTimeout(r, ms));
  const all = Object.values(networkInterfaces()).flat();
  return all.find((a) => a?.family === "IPv4" && !a.internal)?.address ?? "none";
}
`;

/** The app: main waits for \`n\` peers and maps \`tasks\` over them; prints the hosts. */
const APP_TS = `
import { futures, grid, run } from ${JSON.stringify(join(ROOT, "mod.ts"))};
import { hostOf, via } from "./where.ts";
export { hostOf };
export async function main([n, tasks]: string[]) {
  await grid.waitForPeers(Number(n), { timeout: 60_000 });
  const hosts = await futures.map(hostOf, Array(Number(tasks)).fill(20));
  console.log(JSON.stringify({ hosts: [...new Set(hosts)].sort(), n: hosts.length, via }));
}
if (import.meta.main) run(main);
`;
const problem = labProblem();
if (problem !== undefined) process.stderr.write(`skipped: the LAN tests: ${problem}\n`);

describe.skipIf(problem !== undefined)("a LAN of three hosts (network namespaces)", () => {
  const lab = new Lab("sclan", 3);
  const { dir: scratchDir, cleanup } = scratch("lan", "a");
  beforeAll(() => {
    lab.up();
  });
  afterAll(() => {
    cleanup();
    lab.down();
  });

  test(
    "a key and nothing else: joiners (Bun, Deno) with no app find the origin over mDNS, run the job's code it sends, and drop it",
    async () => {
      const env = { SCOOP_SECRET: "lan test key one" };
      // The app lives where the joiners cannot see it: a directory hidden under an empty
      // tmpfs in their mount namespace. It imports a module of its own (bundled with it).
      const app = join(scratchDir, "app.ts");
      writeFileSync(join(scratchDir, "where.ts"), WHERE_TS);
      writeFileSync(app, APP_TS);
      const hidden = (host: number) => [
        ...lab.on(host, ["unshare", "--mount", "sh", "-c"]),
        'mount -t tmpfs none "$0" && exec "$@"',
        scratchDir,
      ];
      // The joiners start first: they wait for the job.
      const bunJoiner = start(["-v", "--join", "--once"], {
        env,
        prefix: hidden(1),
        runtime: "bun",
      });
      const denoJoiner = start(["-v", "--join", "--once"], {
        env,
        prefix: hidden(2),
        runtime: "deno",
      });
      await bunJoiner.waitFor(/waits for a job of grid/);
      const origin = start(["-n", "1", app, "3", "90"], { env, prefix: lab.on(0, []) });
      expect(await origin.exited).toBe(0);
      expect(lastJson(origin.stdout)).toEqual({
        hosts: [`${NET}.1`, `${NET}.2`, `${NET}.3`],
        n: 90,
        via: "where.ts",
      });
      // The origin says, in one line, how to join it (never the key, and no app file needed).
      expect(origin.stderr).toMatch(
        new RegExp(
          `scoop: grid "scoop" is open \\(found over mDNS.*SCOOP_SECRET=… .* --join --bootstrap /ip4/${
            NET.replaceAll(".", "\\.")
          }\\.1/tcp/\\d+/p2p/\\w+$`,
          "m",
        ),
      );
      expect(origin.stderr).not.toContain("lan test key one");
      expect(await bunJoiner.exited).toBe(0);
      expect(await denoJoiner.exited).toBe(0);
      for (const joiner of [bunJoiner, denoJoiner]) {
        const [, hash] = joiner.stderr.match(
          /fetched the job's code \(\d+ bytes, sha256 (\w+)…\)/,
        )!;
        // Dropped when the job ended.
        expect(readdirSync(tmpdir()).filter((f) => f.startsWith(`scoop-code-${hash}-`))).toEqual(
          [],
        );
      }
      for (const p of [origin, bunJoiner, denoJoiner]) expect(await noneLeft(p.tag)).toEqual([]);
    },
    TIMEOUT,
  );

  test(
    "a joiner with no app serves job after job, each with its own code, dropped after it",
    async () => {
      const env = { SCOOP_SECRET: "lan test key three" };
      writeFileSync(join(scratchDir, "where.ts"), WHERE_TS);
      const apps = ["first.ts", "second.ts"].map((name) => join(scratchDir, name));
      // Two apps that differ (so do their hashes and bundles).
      apps.forEach((app, i) => writeFileSync(app, `${APP_TS}\n// job ${i + 1}\n`));
      const joiner = start(["-v", "--join"], { env, prefix: lab.on(1, []) });
      const seen: string[] = [];
      for (const [i, app] of apps.entries()) {
        const origin = start(["-n", "1", app, "2", "30"], { env, prefix: lab.on(0, []) });
        expect(await origin.exited).toBe(0);
        expect(lastJson(origin.stdout)).toMatchObject({ hosts: [`${NET}.1`, `${NET}.2`], n: 30 });
        // The joiner is back to waiting, its copy of that job's code gone.
        const ended = new RegExp(`(?:the job ended; waiting for the next one[^]*){${i + 1}}`);
        await joiner.waitFor(ended);
        const hashes = [
          ...joiner.stderr.matchAll(/fetched the job's code \(\d+ bytes, sha256 (\w+)…/g),
        ];
        expect(hashes.length).toBe(i + 1);
        const hash = hashes[i][1];
        seen.push(hash);
        expect(readdirSync(tmpdir()).filter((f) => f.startsWith(`scoop-code-${hash}-`))).toEqual(
          [],
        );
      }
      expect(new Set(seen).size).toBe(2);
      joiner.child.kill("SIGTERM");
      await joiner.exited;
      expect(await noneLeft(joiner.tag)).toEqual([]);
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
    // Neither joiner has the app: only a key holder gets the job's code.
    const wrong = start(["--join", "--no-mdns", "--bootstrap", addr], {
      env: { SCOOP_SECRET: "a wrong key" },
      prefix: lab.on(1, []),
    });
    expect(await wrong.exited).toBe(1);
    expect(wrong.stderr).toMatch(
      /scoop: error: Cannot join the grid at \S+: the handshake failed: does this peer have the grid's key\?/,
    );
    // The grid goes on: a right joiner, given the address, ends the job.
    const right = start(["--join", "--no-mdns", "--bootstrap", addr], {
      env: { SCOOP_SECRET: "the right key" },
      prefix: lab.on(2, []),
    });
    expect(await origin.exited).toBe(0);
    expect(await right.exited).toBe(0);
    for (const p of [origin, wrong, right]) expect(await noneLeft(p.tag)).toEqual([]);
  }, TIMEOUT);
});
