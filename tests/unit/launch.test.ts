/** How the launcher reports a peer's end: as a shell would, 128 + N for signal N. */
import { describe, expect, test } from "bun:test";
import { byteSize } from "../../src/launcher/cli.ts";
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

describe("--max-frame sizes", () => {
  test("bytes, or K, M, G as powers of 1024", () => {
    expect(byteSize("65536")).toBe(65536);
    expect(byteSize("64K")).toBe(64 * 1024);
    expect(byteSize("512M")).toBe(512 * 1024 * 1024);
    expect(byteSize("1g")).toBe(1024 ** 3);
    expect(byteSize("2MiB")).toBe(2 * 1024 * 1024);
  });

  test("anything else is refused in one line that says what is accepted", () => {
    for (const bad of ["", "abc", "-1", "1.5M", "12", "4G", "9T"]) {
      expect(() => byteSize(bad)).toThrow(
        `--max-frame must be a size from 1K to 4095M (bytes, or with K, M or G as in 64M), got "${bad}"`,
      );
    }
  });
});
