import { describe, expect, test } from "bun:test";
import {
  divideHosts,
  hostsFromList,
  isThisHost,
  joinArgs,
  planHosts,
  shellQuote,
  splitCommand,
  srunArgv,
  sshArgv,
} from "../../src/launcher/plan.ts";
import { keyLine } from "../../src/launcher/remote.ts";

const h = (host: string, count: number) => ({ host, count });

describe("SCOOP's division of -n over the hosts", () => {
  test.each([
    ["no -n: the hosts' counts", undefined, [h("a", 2), h("b", 1)]],
    ["as many as the counts", 3, [h("a", 2), h("b", 1)]],
    ["more: one more per host in turn, from the first", 6, [h("a", 4), h("b", 2)]],
    ["fewer: cut from the last host back", 2, [h("a", 2)]],
    ["fewer, within a host", 1, [h("a", 1)]],
  ])("%s", (_name, n, expected) => {
    expect(divideHosts([h("a", 2), h("b", 1)], n)).toEqual(expected);
  });

  test("the hosts given are not changed", () => {
    const hosts = [h("a", 1)];
    divideHosts(hosts, 5);
    expect(hosts).toEqual([h("a", 1)]);
  });
});

describe("--hosts words", () => {
  test("one peer per mention, in order of first mention; commas too", () => {
    expect(hostsFromList(["a", "b", "a", "c,a"])).toEqual([h("a", 3), h("b", 1), h("c", 1)]);
  });
  test("a bad or empty list is refused in one line", () => {
    expect(() => hostsFromList(["a;b"])).toThrow('--hosts: "a;b" is not a host name or address');
    expect(() => hostsFromList([""])).toThrow("--hosts names no host");
  });
});

describe("which hosts are this machine", () => {
  const names = ["node7.lab", "node7", "10.0.0.7", "fe80::1"];
  test.each([
    ["localhost", true],
    ["127.0.1.1", true],
    ["::1", true],
    ["[::1]", true],
    ["NODE7", true],
    ["10.0.0.7", true],
    ["fe80::1", true],
    ["node8", false],
    ["10.0.0.70", false],
  ])("%s: %p", (host, local) => {
    expect(isThisHost(host, names)).toBe(local);
  });
});

describe("what runs here and what elsewhere", () => {
  const local = (host: string) => host === "me";
  test("the first host is this machine: its peers here, the origin among them", () => {
    expect(planHosts([h("me", 2), h("b", 3)], local)).toEqual({ local: 2, remote: [h("b", 3)] });
  });
  test("the first host is another: the origin runs here in place of one of its peers", () => {
    expect(planHosts([h("a", 2), h("b", 1)], local)).toEqual({
      local: 1,
      remote: [h("a", 1), h("b", 1)],
      firstElsewhere: "a",
    });
    expect(planHosts([h("a", 1), h("me", 2)], local)).toEqual({
      local: 3,
      remote: [],
      firstElsewhere: "a",
    });
  });
});

describe("the command lines for the other hosts", () => {
  const job = {
    count: 2,
    bootstrap: ["/ip4/10.0.0.1/tcp/4001/p2p/12D3Koo"],
    grid: "g",
    entry: "app dir/app.ts",
  };

  test("the joiners: one job, the key on standard input, the entry after --", () => {
    expect(joinArgs({ ...job, level: "debug", limits: { maxPending: 9, maxFrameBytes: 4096 } }))
      .toEqual([
        "--join",
        "--once",
        "--no-mdns",
        "-n",
        "2",
        "--secret-file",
        "-",
        "--grid",
        "g",
        "--bootstrap",
        "/ip4/10.0.0.1/tcp/4001/p2p/12D3Koo",
        "-v",
        "--max-pending",
        "9",
        "--max-frame",
        "4096",
        "--",
        "app dir/app.ts",
      ]);
  });

  test("over ssh: batch mode, then one line for the remote shell, quoted once per shell", () => {
    const argv = sshArgv(["ssh", "-p", "2222"], "n2", "/home/me/my app", ["bun", "it's.ts"], "UP");
    expect(argv.slice(0, -1)).toEqual([
      "ssh",
      "-p",
      "2222",
      "-o",
      "BatchMode=yes",
      "-o",
      "ConnectTimeout=10",
      "-T",
      "n2",
    ]);
    expect(argv.at(-1)).toBe(
      `exec sh -c 'cd '\\''/home/me/my app'\\'' && echo UP >&2 && exec env SCOOP_JOIN_TIED=1 ` +
        `bun '\\''it'\\''\\'\\'''\\''s.ts'\\'''`,
    );
  });

  test("in a SLURM job: one srun step per node, sharing the job's CPUs", () => {
    expect(srunArgv("n3", "/work", ["bun", "cli.ts"])).toEqual([
      "srun",
      "--overlap",
      "--nodes=1",
      "--ntasks=1",
      "--nodelist=n3",
      "--chdir=/work",
      "bun",
      "cli.ts",
    ]);
  });

  test("shell quoting leaves plain words alone", () => {
    expect([shellQuote("/a/b-c_d.ts"), shellQuote("a b"), shellQuote("")]).toEqual([
      "/a/b-c_d.ts",
      "'a b'",
      "''",
    ]);
  });

  test("--ssh CMD is split as a shell would, without expansion", () => {
    expect(splitCommand(`ssh -i "/my keys/id" -o 'ProxyJump=a b' x\\ y $HOME`)).toEqual([
      "ssh",
      "-i",
      "/my keys/id",
      "-o",
      "ProxyJump=a b",
      "x y",
      "$HOME",
    ]);
    expect(() => splitCommand(`ssh "-i`)).toThrow('--ssh: unclosed " in "ssh "-i"');
    expect(() => splitCommand("  ")).toThrow("--ssh names no command");
  });

  test("the key goes to other hosts as one line of text, or not at all", () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(keyLine(enc("s3cret key"))).toBe("s3cret key");
    expect(() => keyLine(enc("two\nlines"))).toThrow("Cannot send the grid key to other hosts");
  });
});
