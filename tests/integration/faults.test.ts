/**
 * Faults on real processes over real libp2p: a peer killed mid-job loses no work. (The
 * simulator, tests/sim/, covers faults at scale; these check the real peer does what the state
 * machine decides.)
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FIXTURES, killAll, lastJson, noneLeft, start } from "./_harness.ts";

const FIXTURE = join(FIXTURES, "api-fixture.ts");
const TIMEOUT = 120_000;
const dir = mkdtempSync(join(tmpdir(), "scoop-faults-"));
const secret = join(dir, "secret");
writeFileSync(secret, "a0".repeat(32));

afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe("faults", () => {
  test("a peer killed while it holds tasks: they run again, every result exact", async () => {
    const origin = start(["-v", "-n", "1", "--secret-file", secret, FIXTURE, "survive", "2"]);
    const [, addr] = await origin.waitFor(/listening on (\/ip4\/\S+\/p2p\/\S+)/);
    const joiner = start(["--join", "--bootstrap", addr, "--secret-file", secret, FIXTURE]);
    const [, victim] = await origin.waitFor(/remote ran (\w+)/);
    joiner.child.kill("SIGKILL");
    expect(await origin.exited).toBe(0);
    expect(lastJson(origin.stdout)).toEqual({
      exact: true,
      n: 300,
      ranOnOrigin: true,
      ranElsewhere: true,
    });
    // The origin found the peer lost and queued again what it held.
    expect(origin.stderr).toMatch(
      new RegExp(`peer ${victim} lost .*; \\d+ of its tasks run elsewhere`),
    );
    expect(await noneLeft(origin.tag)).toEqual([]);
    expect(await noneLeft(joiner.tag)).toEqual([]);
  }, TIMEOUT);
});
