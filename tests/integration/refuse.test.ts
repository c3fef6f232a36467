/**
 * The handshake keeps strangers out: a peer with another grid key cannot even complete Noise,
 * and a peer running another version of the entry module, or of another grid, is refused with
 * a message that says why.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FIXTURES, killAll, noneLeft, type Proc, run, start } from "./_harness.ts";

const FIXTURE = join(FIXTURES, "api-fixture.ts");
const TIMEOUT = 120_000;
const dir = mkdtempSync(join(tmpdir(), "scoop-refuse-"));
const secret = join(dir, "secret");
writeFileSync(secret, "the grid's own key\n");

let origin: Proc | undefined;

/** Start an origin that serves until killed; return its listen address. */
async function startOrigin(extra: string[] = []): Promise<string> {
  origin = start(["-v", "-n", "1", "--secret-file", secret, ...extra, FIXTURE, "waitPeers"]);
  const m = await origin.waitFor(/listening on (\/ip4\/\S+\/p2p\/\S+)/);
  await origin.waitFor(/origin up/);
  return m[1];
}

afterEach(async () => {
  if (origin) {
    origin.child.kill("SIGTERM");
    await origin.exited;
    expect(await noneLeft(origin.tag)).toEqual([]);
    origin = undefined;
  }
});
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe("refusal at the handshake", () => {
  test("a peer with the grid's key joins, is served, and leaves when the origin dies", async () => {
    const addr = await startOrigin();
    const joiner = start(["-v", "--join", "--bootstrap", addr, "--secret-file", secret, FIXTURE]);
    await joiner.waitFor(/joined grid "scoop"/);
    await origin!.waitFor(/joined \(2 peers\)/);
    await joiner.waitFor(/joined \(2 peers\)/);
    origin!.child.kill("SIGKILL");
    const status = await joiner.exited;
    if (status !== 1) throw new Error(`status ${status}: ${joiner.stderr}`);
    expect(joiner.stderr).toMatch(/scoop: error: .*the origin \w+ left the grid/);
    expect(await noneLeft(joiner.tag)).toEqual([]);
  }, TIMEOUT);

  test("a peer started with another grid key is refused", async () => {
    const addr = await startOrigin();
    const r = await run(["--join", "--bootstrap", addr, FIXTURE], {
      env: { SCOOP_SECRET: "some other key" },
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/the handshake failed: does this peer have the grid's key\?/);
    expect(r.stderr.trim().split("\n").filter((l) => l.startsWith("scoop: error")).length).toBe(1);
    expect(await noneLeft(r.tag)).toEqual([]);
  }, TIMEOUT);

  test("a peer running another version of the entry module is refused", async () => {
    const addr = await startOrigin();
    // Same file name and tasks, one more line: another hash of the code.
    const other = join(dir, "api-fixture.ts");
    const code = readFileSync(FIXTURE, "utf8").replaceAll(
      'from "../../mod.ts"',
      `from ${JSON.stringify(join(FIXTURES, "..", "..", "mod.ts"))}`,
    ).replaceAll(
      'from "./helper-tasks.ts"',
      `from ${JSON.stringify(join(FIXTURES, "helper-tasks.ts"))}`,
    );
    writeFileSync(other, code + "\n// another version\n");
    const r = await run(["--join", "--bootstrap", addr, "--secret-file", secret, other]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/another version of the entry module/);
    expect(await noneLeft(r.tag)).toEqual([]);
  }, TIMEOUT);

  test("a peer of another grid name is refused", async () => {
    const addr = await startOrigin(["--grid", "alpha"]);
    const r = await run([
      "--join",
      "--grid",
      "beta",
      "--bootstrap",
      addr,
      "--secret-file",
      secret,
      FIXTURE,
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/grid/);
    expect(r.stderr).toMatch(/alpha|beta/);
    expect(await noneLeft(r.tag)).toEqual([]);
  }, TIMEOUT);
});
