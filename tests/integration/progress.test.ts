/**
 * The progress bar in a real terminal: the launcher runs in a tmux pane (stderr is a terminal
 * there, so the bar is on by default), and what the pane shows is read while the job runs.
 * Elsewhere (a pipe) it is off unless `--progress`; `-q` hides it. Needs tmux; without it the
 * terminal case is skipped with a printed reason (CI installs it).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { execFileSync, spawnSync } from "node:child_process";
import process from "node:process";
import { join } from "node:path";
import { command, FIXTURES, killAll, lastJson, noneLeft, ROOT, run } from "./_harness.ts";

const FIXTURE = join(FIXTURES, "api-fixture.ts");
const TIMEOUT = 120_000;
const tmux = spawnSync("tmux", ["-V"]).status === 0;
if (!tmux) process.stderr.write("skipped: the progress bar in a terminal: tmux is missing\n");

afterAll(killAll);

describe("progress bar", () => {
  test.skipIf(!tmux)("in a terminal it is on by default: done/total, rate, time left", async () => {
    const session = `scoop-progress-${process.pid}`;
    const tag = `scoop-test-${process.pid}-progress`;
    const [cmd, args] = command(join(ROOT, "cli.ts"), ["-n", "2", FIXTURE, "napMap", "400", "20"]);
    const line = [cmd, ...args].map((w) => `'${w}'`).join(" ");
    execFileSync("tmux", [
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "150",
      "-y",
      "30",
      `cd '${ROOT}' && SCOOP_TEST_TAG=${tag} ${line}; echo "exit=$?"; sleep 60`,
    ]);
    try {
      let pane = "";
      const bar = /scoop \[[=-]+\] (\d+)\/400 tasks \| \d+\/s \| ETA \S+ \| 0 failed/;
      // Read the pane until the bar has been seen mid-job and the job has ended.
      let midJob = false;
      for (const end = Date.now() + 90_000; Date.now() < end;) {
        pane = execFileSync("tmux", ["capture-pane", "-p", "-t", session], { encoding: "utf8" });
        const m = bar.exec(pane);
        if (m && Number(m[1]) < 400) midJob = true;
        if (/exit=\d+/.test(pane)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(midJob).toBe(true);
      expect(pane).toMatch(/exit=0/);
      expect(pane).toMatch(/\{"n":400\}/);
      expect(pane).toMatch(/400\/400 tasks/);
      expect(await noneLeft(tag)).toEqual([]);
    } finally {
      spawnSync("tmux", ["kill-session", "-t", session]);
    }
  }, TIMEOUT);

  test("into a pipe it is off unless --progress; -q hides it", async () => {
    const plain = await run(["-n", "2", FIXTURE, "napMap", "150", "20"]);
    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toMatch(/tasks \|/);
    const forced = await run(["-n", "2", "--progress", FIXTURE, "napMap", "150", "20"]);
    expect(forced.code).toBe(0);
    expect(lastJson(forced.stdout)).toEqual({ n: 150 });
    expect(forced.stderr).toMatch(
      /^scoop \[[=-]+\] 150\/150 tasks \| \d+\/s \| ETA 0s \| 0 failed$/m,
    );
    const both = await run(["-q", "--progress", FIXTURE, "napMap", "1", "1"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--progress and -q cannot be used together/);
  }, TIMEOUT);
});
