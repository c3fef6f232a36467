/**
 * SCOOP's launcher across hosts over ssh: three network namespaces on a bridge
 * (tests/lab/netns.ts), each with its own name and a real sshd (tests/lab/sshd.ts); the
 * launcher runs on the first and starts the others' peers over ssh, from `--hostfile`,
 * `--hosts`, or a PBS or SGE job's host file. Needs root and openssh; elsewhere the cases are
 * skipped, and the reason printed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { Lab, labProblem, NET } from "../lab/netns.ts";
import { sshProblem, startSshd } from "../lab/sshd.ts";
import { FIXTURES, lastJson, noneLeft, ROOT, scratch, start } from "./_harness.ts";

const FIXTURE = join(FIXTURES, "api-fixture.ts");
const TIMEOUT = 120_000;
const problem = labProblem() ?? sshProblem();
if (problem !== undefined) process.stderr.write(`skipped: the hosts-over-ssh tests: ${problem}\n`);

/** The command lines of every live process, by pid. */
function commandLines(): Map<number, string> {
  const out = new Map<number, string>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      out.set(Number(name), readFileSync(`/proc/${name}/cmdline`, "latin1").replaceAll("\0", " "));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Every command line seen while a job runs (polled), for what must never be in argv. */
function watchArgv() {
  const seen = new Set<string>();
  const timer = setInterval(() => {
    for (const line of commandLines().values()) seen.add(line);
  }, 20);
  return {
    stop: () => {
      clearInterval(timer);
      return [...seen];
    },
  };
}

/** Wait until no process's command line names `grid` (the remote peers are gone too). */
async function gridGone(grid: string): Promise<string[]> {
  const left = () => [...commandLines().values()].filter((l) => l.includes(`--grid ${grid} `));
  for (let i = 0; i < 400 && left().length > 0; i++) await new Promise((r) => setTimeout(r, 25));
  return left();
}

let grids = 0;
const gridName = () => `hosts-${process.pid}-${++grids}`;

describe.skipIf(problem !== undefined)("hosts over ssh (three network namespaces)", () => {
  const lab = new Lab("schost", 3);
  const files = scratch("hosts", "7");
  let ssh = "";
  const addrs = [`${NET}.1`, `${NET}.2`, `${NET}.3`];
  beforeAll(async () => {
    // schost9 has an address on the bridge that nobody answers.
    lab.up().names({ schost9: `${NET}.99` });
    ssh = await startSshd(lab, files.dir, [1, 2]);
  });
  afterAll(() => {
    files.cleanup();
    lab.down();
  });

  /** The launcher on the lab's first host, under its own name. */
  const launcher = (args: string[], env: Record<string, string> = {}) =>
    start(args, { env, prefix: lab.named(0, []) });
  /** The launcher running the fixture's `lanJob` (`peers` peers, `tasks` tasks) on `grid`. */
  const lanJob = (options: string[], grid: string, peers: number, tasks: number) =>
    launcher([...options, "--ssh", ssh, "--grid", grid, FIXTURE, "lanJob", `${peers}`, `${tasks}`]);

  test(
    "--hostfile: one job spans the three hosts; the fresh key never shows in any argv",
    async () => {
      const hostfile = join(files.dir, "hostfile");
      writeFileSync(hostfile, "# the lab\nschost1 2\nschost2 2   # two peers\n\nschost3\n");
      const grid = gridName();
      const watch = watchArgv();
      const origin = launcher(
        ["--hostfile", hostfile, "--ssh", ssh, "--grid", grid, FIXTURE, "lanJob", "5", "90"],
        {},
      );
      const code = await origin.exited;
      const seen = watch.stop();
      expect({ code, stderr: origin.stderr }).toEqual({ code: 0, stderr: "" });
      // Five peers joined (the job waited for them), on the three hosts.
      expect(lastJson(origin.stdout)).toEqual({ hosts: addrs, n: 90 });
      const ours = seen.filter((l) => l.includes(`--grid ${grid} `));
      // ssh here, and the joiners there (two on schost2, one on schost3), were seen ...
      expect(ours.some((l) => /^(\S*\/)?ssh .* schost2 /.test(l))).toBe(true);
      expect(ours.filter((l) => / --join .*--secret-file - /.test(l)).length).toBeGreaterThan(2);
      // ... and no argv held a key (the fresh key is 64 hex digits).
      expect(ours.filter((l) => /[0-9a-f]{64}/.test(l))).toEqual([]);
      expect(await noneLeft(origin.tag)).toEqual([]);
      expect(await gridGone(grid)).toEqual([]);
    },
    TIMEOUT,
  );

  test("an unreachable host gets one line; the job runs on the rest", async () => {
    const hostfile = join(files.dir, "hostfile-9");
    writeFileSync(hostfile, "schost1\nschost2\nschost9\nschost3\n");
    const grid = gridName();
    const origin = lanJob(["--hostfile", hostfile], grid, 3, 30);
    expect(await origin.exited).toBe(0);
    expect(lastJson(origin.stdout)).toEqual({ hosts: addrs, n: 30 });
    expect(origin.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(
        /^scoop: cannot start peers on schost9 over ssh: .*schost9.*; the job runs on the rest$/,
      ),
    ]);
    expect(await noneLeft(origin.tag)).toEqual([]);
    expect(await gridGone(grid)).toEqual([]);
  }, TIMEOUT);

  test(
    "--hosts with -n over them (SCOOP's division) and a given key: never in any argv",
    async () => {
      const secret = `hosts test key ${process.pid}`;
      const grid = gridName();
      const watch = watchArgv();
      // -n 4 over three hosts: schost1 runs two (the origin and one), the others one each.
      const origin = launcher(
        [
          "--hosts",
          "schost1",
          "schost2",
          "schost3",
          "-n",
          "4",
          "--path",
          ROOT,
          "--ssh",
          ssh,
          "--grid",
          grid,
          "tests/fixtures/api-fixture.ts",
          "lanJob",
          "4",
          "40",
        ],
        { SCOOP_SECRET: secret },
      );
      const code = await origin.exited;
      const seen = watch.stop();
      expect(code).toBe(0);
      expect(lastJson(origin.stdout)).toEqual({ hosts: addrs, n: 40 });
      // A given key: the grid says how to join it (never the key), in one line.
      expect(origin.stderr).toMatch(/^scoop: grid "[^"]+" is open .*SCOOP_SECRET=… [^\n]*\n$/);
      // One joiner each on schost2 and schost3, over ssh; none on schost1, this machine.
      const sshLines = seen.filter((l) => /^(\S*\/)?ssh /.test(l) && l.includes(`--grid ${grid} `));
      const started = (host: string) =>
        [...new Set(sshLines.filter((l) => l.includes(` ${host} `)))].map((l) =>
          / -n (\d+) /.exec(l)?.[1]
        );
      expect([started("schost1"), started("schost2"), started("schost3")]).toEqual([
        [],
        ["1"],
        ["1"],
      ]);
      expect(seen.filter((l) => l.includes(secret))).toEqual([]);
      expect(await noneLeft(origin.tag)).toEqual([]);
      expect(await gridGone(grid)).toEqual([]);
    },
    TIMEOUT,
  );

  test(
    "--path is where the other hosts' peers start: a wrong one is told, in one line",
    async () => {
      const grid = gridName();
      const origin = lanJob(
        ["--hosts", "schost1", "schost2", "--path", "/no/such/dir"],
        grid,
        1,
        10,
      );
      expect(await origin.exited).toBe(0);
      expect(lastJson(origin.stdout)).toEqual({ hosts: [`${NET}.1`], n: 10 });
      expect(origin.stderr.trim().split("\n")).toEqual([
        expect.stringMatching(
          /^scoop: cannot start peers on schost2 over ssh: .*\/no\/such\/dir.*; the job runs on the rest$/,
        ),
      ]);
      expect(await noneLeft(origin.tag)).toEqual([]);
    },
    TIMEOUT,
  );

  test.each([
    ["PBS", "PBS_NODEFILE", "schost1\nschost1\nschost2\nschost3\nschost3\n", {
      PBS_JOBID: "7.lab",
    }],
    [
      "SGE",
      "PE_HOSTFILE",
      "schost1 2 all.q@schost1 UNDEFINED\nschost2 1 all.q@schost2 UNDEFINED\n" +
      "schost3 2 all.q@schost3 UNDEFINED\n",
      { JOB_ID: "7" },
    ],
  ])(
    "a %s job: the hosts and counts come from its %s; peers start over ssh",
    async (_name, variable, text, env) => {
      const file = join(files.dir, variable);
      writeFileSync(file, text);
      const grid = gridName();
      const origin = launcher(["--ssh", ssh, "--grid", grid, FIXTURE, "lanJob", "5", "50"], {
        ...env,
        [variable]: file,
      });
      expect(await origin.exited).toBe(0);
      expect({ stderr: origin.stderr, out: lastJson(origin.stdout) }).toEqual({
        stderr: "",
        out: { hosts: addrs, n: 50 },
      });
      expect(await noneLeft(origin.tag)).toEqual([]);
      expect(await gridGone(grid)).toEqual([]);
    },
    TIMEOUT,
  );
});
