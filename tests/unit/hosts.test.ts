import { describe, expect, test } from "bun:test";
import {
  batchHosts,
  expandNodelist,
  expandTasksPerNode,
  parseHostfile,
  parsePbsNodefile,
  parseSgeHostfile,
} from "../../src/launcher/hosts.ts";

describe("SCOOP's hostfile", () => {
  test("host [count] per line, comments and blank lines skipped, a host named twice summed", () => {
    const text = "# the lab\nh1 2\n\nh2   # one peer\n10.0.0.3 4\nh1\n";
    expect(parseHostfile(text)).toEqual([
      { host: "h1", count: 3 },
      { host: "h2", count: 1 },
      { host: "10.0.0.3", count: 4 },
    ]);
  });

  test("bad lines are refused naming the line and what was expected", () => {
    expect(() => parseHostfile("h1 2\nh2 zero\n", "hosts.txt")).toThrow(
      'hosts.txt, line 2: the count must be a positive integer, got "zero"',
    );
    expect(() => parseHostfile("h1 0")).toThrow("the count must be a positive integer");
    expect(() => parseHostfile("h1 2 3")).toThrow('line 1: expected "host [count]", got "h1 2 3"');
    expect(() => parseHostfile("h$1")).toThrow('"h$1" is not a host name or address');
    expect(() => parseHostfile("# nothing\n\n", "hosts.txt")).toThrow("hosts.txt names no host");
  });
});

describe("SLURM", () => {
  test("node lists with ranges, padding, several groups and plain names", () => {
    expect(expandNodelist("n[01-04,7]")).toEqual(["n01", "n02", "n03", "n04", "n7"]);
    expect(expandNodelist("h[1-3]")).toEqual(["h1", "h2", "h3"]);
    expect(expandNodelist("gpu1,n[8-9],login")).toEqual(["gpu1", "n8", "n9", "login"]);
    expect(expandNodelist("r[1-2]n[1-2]")).toEqual(["r1n1", "r1n2", "r2n1", "r2n2"]);
    expect(expandNodelist("n[9-10]")).toEqual(["n9", "n10"]);
  });

  test("bad node lists are refused", () => {
    for (const bad of ["n[1-", "n[a-b]", "n[3-1]", "", "n]1["]) {
      expect(() => expandNodelist(bad)).toThrow(/SLURM node list/);
    }
  });

  test("tasks per node: 2(x3),1 is 2, 2, 2, 1", () => {
    expect(expandTasksPerNode("2(x3),1")).toEqual([2, 2, 2, 1]);
    expect(expandTasksPerNode("4")).toEqual([4]);
    expect(() => expandTasksPerNode("2(x)")).toThrow('bad SLURM_TASKS_PER_NODE "2(x)"');
  });

  test("a job's environment gives hosts and counts", () => {
    const env = {
      SLURM_JOB_ID: "7",
      SLURM_JOB_NODELIST: "h[1-3]",
      SLURM_TASKS_PER_NODE: "2,1(x2)",
    };
    expect(batchHosts(env, () => "")).toEqual({
      scheduler: "slurm",
      hosts: [{ host: "h1", count: 2 }, { host: "h2", count: 1 }, { host: "h3", count: 1 }],
    });
    expect(() => batchHosts({ ...env, SLURM_TASKS_PER_NODE: "2" }, () => "")).toThrow(
      'SLURM_TASKS_PER_NODE "2" gives 1 counts for 3 nodes in "h[1-3]"',
    );
  });
});

describe("PBS and SGE", () => {
  test("PBS_NODEFILE: one line per slot", () => {
    const files: Record<string, string> = { "/nodes": "n1\nn1\nn2\n" };
    expect(batchHosts({ PBS_NODEFILE: "/nodes" }, (p) => files[p])).toEqual({
      scheduler: "pbs",
      hosts: [{ host: "n1", count: 2 }, { host: "n2", count: 1 }],
    });
    expect(() => parsePbsNodefile("\n")).toThrow("PBS_NODEFILE names no host");
  });

  test("PE_HOSTFILE: host slots queue processors", () => {
    const text = "n1 4 all.q@n1 UNDEFINED\nn2 2 all.q@n2 UNDEFINED\n";
    expect(parseSgeHostfile(text)).toEqual([{ host: "n1", count: 4 }, { host: "n2", count: 2 }]);
    expect(() => parseSgeHostfile("n1\n")).toThrow(
      'PE_HOSTFILE, line 1: expected "host slots queue processors", got "n1"',
    );
  });

  test("outside a batch job: nothing", () => {
    expect(batchHosts({}, () => "")).toBeUndefined();
  });
});
