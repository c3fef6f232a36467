/** How the launcher reports a peer's end: as a shell would, 128 + N for signal N. */
import { describe, expect, test } from "bun:test";
import { describeExit, exitStatus } from "../../src/launcher/launch.ts";

describe("exit statuses", () => {
  test("a signal is reported as 128 + its number, with its name", () => {
    expect(exitStatus(null, "SIGKILL")).toBe(137);
    expect(describeExit(null, "SIGKILL")).toBe("status 137 (SIGKILL)");
    expect(exitStatus(null, "SIGTRAP")).toBe(133);
    expect(describeExit(null, "SIGSEGV")).toBe("status 139 (SIGSEGV)");
  });

  test("an exit code is reported as itself", () => {
    expect(exitStatus(7, null)).toBe(7);
    expect(describeExit(0, null)).toBe("status 0");
  });
});
