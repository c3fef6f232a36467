/**
 * What the user sees at the default level when peers come and go: one line each on the
 * origin's terminal for a peer that joins from elsewhere, leaves, dies or is refused (see
 * `src/launcher/notices.ts`); nothing for the peers `-n` starts as they join.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import process from "node:process";
import {
  FIXTURES,
  lastJson,
  noneLeft,
  type Proc,
  processesTagged,
  scratch,
  start,
} from "./_harness.ts";

const FIXTURE = join(FIXTURES, "api-fixture.ts");
const TIMEOUT = 120_000;
const { secret, cleanup } = scratch("members", "b1");

afterAll(cleanup);

/** The lines meant for the user (`scoop: …`), not the component log lines of `-v`. */
function notices(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("scoop: "));
}

let origin: Proc | undefined;

/** An origin (`-v`, to read its address) serving `scenario` with the grid key. */
async function startOrigin(scenario: string[]): Promise<string> {
  origin = start(["-v", "-n", "1", "--no-mdns", "--secret-file", secret, FIXTURE, ...scenario]);
  const [, addr] = await origin.waitFor(/listening on (\/ip4\/\S+\/p2p\/\S+)/);
  return addr;
}

afterEach(async () => {
  if (origin === undefined) return;
  origin.child.kill("SIGTERM");
  await origin.exited;
  expect(await noneLeft(origin.tag)).toEqual([]);
  origin = undefined;
});

describe("one line each", () => {
  test("a joiner that joins, then leaves with SIGTERM: one line each on the origin", async () => {
    const addr = await startOrigin(["waitPeers"]);
    await origin!.waitFor(/origin up/);
    const joiner = start(["-v", "--join", "--bootstrap", addr, "--secret-file", secret, FIXTURE]);
    const [, short] = await origin!.waitFor(
      /^scoop: peer (12D3…\w{6}) joined \(this host, 2 peers\)$/m,
    );
    // Once the joiner has the link too (a peer leaving tells the links it has).
    await joiner.waitFor(/info: peer \w+ joined \(2 peers\)/);
    joiner.child.kill("SIGTERM");
    await origin!.waitFor(/^scoop: peer \S+ left/m);
    expect(await joiner.exited).toBe(143);
    expect(notices(origin!.stderr)).toEqual([
      `scoop: peer ${short} joined (this host, 2 peers)`,
      `scoop: peer ${short} left (1 peer)`,
    ]);
    expect(await noneLeft(joiner.tag)).toEqual([]);
  }, TIMEOUT);

  test("a joiner killed mid-job: one line on the origin says it is lost, and why", async () => {
    await startOrigin(["survive", "2", "600"]);
    const addr = (origin!.stderr.match(/listening on (\/ip4\/\S+\/p2p\/\S+)/))![1];
    const joiner = start(["--join", "--bootstrap", addr, "--secret-file", secret, FIXTURE]);
    const [, victim] = await origin!.waitFor(/remote ran (\w+)/);
    joiner.child.kill("SIGKILL");
    expect(await origin!.exited).toBe(0);
    expect(lastJson(origin!.stdout)).toMatchObject({ exact: true, n: 600 });
    const short = `12D3…${victim.slice(-6)}`;
    expect(notices(origin!.stderr)).toEqual([
      `scoop: peer ${short} joined (this host, 2 peers)`,
      expect.stringMatching(
        new RegExp(`^scoop: peer ${short} lost: .+ \\(1 peer\\); \\d+ of its tasks run elsewhere$`),
      ),
    ]);
    origin = undefined;
    expect(await noneLeft(joiner.tag)).toEqual([]);
  }, TIMEOUT);

  test(
    "a peer with another grid key: one refusal line on the origin, which refused it",
    async () => {
      const addr = await startOrigin(["waitPeers"]);
      await origin!.waitFor(/origin up/);
      const stranger = start(["--join", "--bootstrap", addr, FIXTURE], {
        env: { SCOOP_SECRET: "some other key" },
      });
      expect(await stranger.exited).toBe(1);
      await origin!.waitFor(/^scoop: refused/m);
      expect(notices(origin!.stderr)).toEqual([
        "scoop: refused a connection from 127.0.0.1: its handshake failed: another grid key?",
      ]);
    },
    TIMEOUT,
  );

  test(
    "a peer of -n killed mid-job: the launcher's one line, and nothing else at the default level",
    async () => {
      // Not "replaced" (faults.test.ts checks the replacement): the peer killed here may have
      // run no task, and that scenario waits for a fourth peer to have run one.
      const p = start(["-n", "3", FIXTURE, "survive", "3", "600"]);
      await p.waitFor(/remote ran \w+/);
      const child = processesTagged(p.tag).find((pid) => pid !== p.child.pid)!;
      process.kill(child, "SIGKILL");
      expect(await p.exited).toBe(0);
      expect(lastJson(p.stdout)).toMatchObject({ exact: true, n: 600 });
      expect(p.stderr.trim().split("\n")).toEqual([
        expect.stringMatching(
          /^scoop: peer \d died \(status 137 \(SIGKILL\)\); its tasks run elsewhere; starting another$/,
        ),
      ]);
      expect(await noneLeft(p.tag)).toEqual([]);
    },
    TIMEOUT,
  );
});
