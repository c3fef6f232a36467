/**
 * The dashboard's data path without a grid: the state machine's requests and answers, the
 * check of frames from the network, the model the page shows (peers, totals, rates, the task
 * tree and its bounds), the executor's bounded record of the tree, the server, and the
 * command line's `--dashboard` values.
 */
import { describe, expect, test } from "bun:test";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Action, Event } from "../../src/core/events.ts";
import { validateMessage } from "../../src/core/messages.ts";
import { PeerState } from "../../src/core/state.ts";
import { TELEMETRY_MIN_MS } from "../../src/core/dashboard.ts";
import { readFrame, type TelemetryFrame } from "../../src/dashboard/frame.ts";
import { DashboardModel, MAX_TREE_NODES, QUIET_MS } from "../../src/dashboard/model.ts";
import { serveDashboard } from "../../src/dashboard/server.ts";
import { connect } from "node:net";
import { MAX_TREE_EDGES, type TreeMessage, TreeRecorder } from "../../src/executor/tree.ts";
import { dashboardAddress } from "../../src/launcher/cli.ts";
import { ProtocolError, UsageError } from "../../src/errors.ts";

/** A frame with these fields, the rest zero or empty. */
function frame(over: Partial<TelemetryFrame> = {}): TelemetryFrame {
  return {
    host: "h1",
    runtime: "bun 1.4.5",
    pid: 7,
    load: 0,
    counters: { finished: 0, failed: 0, steals: 0, stealHits: 0, requeued: 0 },
    edges: [],
    ran: [],
    more: 0,
    ...over,
  };
}

function counters(finished: number, more: Partial<TelemetryFrame["counters"]> = {}) {
  return { finished, failed: 0, steals: 0, stealHits: 0, requeued: 0, ...more };
}

describe("the state machine's part", () => {
  const idle = { claimed: () => 0, busy: () => false, revoke: () => false };
  const peer = (id: string, origin: boolean) =>
    new PeerState({ id, origin, addrs: [], random: () => 0.5 }, idle);
  const link = (s: PeerState, id: string, origin = false): Action[] =>
    s.handle({ type: "linkUp", peer: id, origin, addrs: [], load: 0 }, 0);
  const sends = (actions: Action[]) =>
    actions.flatMap((a) => a.type === "send" ? [[a.to, a.message] as const] : []);
  const of = (actions: Action[], type: "observe" | "telemetry") =>
    actions.filter((a) => a.type === type);

  test("without a dashboard nothing is asked or sent", () => {
    const origin = peer("O", true);
    expect(sends(link(origin, "A")).filter(([, m]) => m.t === "observe")).toEqual([]);
  });

  test("the origin asks linked peers and later ones; a frame reaches its host", () => {
    const origin = peer("O", true);
    link(origin, "A");
    const asked = origin.handle({ type: "observe", every: 100 }, 0);
    expect(sends(asked)).toEqual([["A", { t: "observe", every: TELEMETRY_MIN_MS }]]);
    expect(sends(link(origin, "B")).filter(([, m]) => m.t === "observe")).toEqual([
      ["B", { t: "observe", every: TELEMETRY_MIN_MS }],
    ]);
    const got = origin.handle({
      type: "message",
      from: "A",
      message: { t: "telemetry", frame: { any: 1 } },
    }, 0);
    expect(of(got, "telemetry")).toEqual([{ type: "telemetry", from: "A", frame: { any: 1 } }]);
  });

  test("a peer answers the origin only, and sends its frames there", () => {
    const a = peer("A", false);
    link(a, "O", true);
    link(a, "B");
    const message = (from: string): Event => ({
      type: "message",
      from,
      message: { t: "observe", every: 50 },
    });
    expect(of(a.handle(message("B"), 0), "observe")).toEqual([]);
    expect(of(a.handle(message("O"), 0), "observe")).toEqual([
      { type: "observe", every: TELEMETRY_MIN_MS },
    ]);
    const out = a.handle({ type: "report", frame: { x: 1 } }, 0);
    expect(sends(out)).toEqual([["O", { t: "telemetry", frame: { x: 1 } }]]);
    // A peer's own host is no dashboard: frames that reach a non-origin go nowhere.
    const stray = a.handle(
      { type: "message", from: "B", message: { t: "telemetry", frame: {} } },
      0,
    );
    expect(of(stray, "telemetry")).toEqual([]);
  });

  test.each([
    [{ t: "observe" }, /observe\.every/],
    [{ t: "observe", every: -1 }, /observe\.every/],
    [{ t: "telemetry" }, /telemetry\.frame/],
    [{ t: "telemetry", frame: [1] }, /telemetry\.frame/],
  ])("a malformed message %j is refused", (raw, reason) => {
    expect(() => validateMessage(raw)).toThrow(reason);
  });
});

describe("frames from the network", () => {
  test("a good frame is read, with only its known fields", () => {
    const f = frame({ edges: [["", 1, "f"]], ran: ["O:1"] });
    expect(readFrame({ ...f, extra: "dropped" })).toEqual(f);
  });

  test.each([
    ["not an object", 5, /frame must be an object/],
    ["a counter missing", { ...frame(), counters: { finished: 1 } }, /counters\.failed/],
    ["a negative load", { ...frame(), load: -1 }, /load must be/],
    ["a host too long", { ...frame(), host: "h".repeat(300) }, /host must be a string/],
    ["an edge of the wrong shape", { ...frame(), edges: [["", "1", "f"]] }, /edge seq/],
    [
      "too many edges",
      { ...frame(), edges: new Array(2 * MAX_TREE_EDGES + 1).fill(["", 1, "f"]) },
      /edges must be a list of at most/,
    ],
    ["ran not a list", { ...frame(), ran: "O:1" }, /ran must be a list/],
  ])("%s is refused with the reason", (_, raw, reason) => {
    expect(() => readFrame(raw)).toThrow(ProtocolError);
    expect(() => readFrame(raw)).toThrow(reason);
  });
});

describe("the model", () => {
  test("peers, their hosts and the grid's totals", () => {
    const m = new DashboardModel("app.ts");
    m.started("O", 0);
    m.telemetry("O", frame({ load: 3, counters: counters(10, { steals: 4, stealHits: 2 }) }), 0);
    m.telemetry("A", frame({ host: "h2", load: 5, counters: counters(7, { failed: 1 }) }), 0);
    m.progress({ submitted: 9, settled: 4, failed: 1 });
    const s = m.snapshot(100);
    expect(s.peers.map((p) => [p.id, p.host, p.origin, p.load, p.quiet])).toEqual([
      ["O", "h1", true, 3, false],
      ["A", "h2", false, 5, false],
    ]);
    expect(s.totals).toEqual({
      finished: 17,
      failed: 1,
      steals: 4,
      stealHits: 2,
      requeued: 0,
      rate: 0,
      load: 8,
    });
    expect([s.state, s.main]).toEqual(["running", { submitted: 9, settled: 4, failed: 1 }]);
  });

  test("tasks per second over the last two samples, and load per peer over time", () => {
    const m = new DashboardModel("app.ts");
    m.started("O", 0);
    m.telemetry("O", frame({ load: 1, counters: counters(0) }), 0);
    m.sample(0);
    m.telemetry("O", frame({ load: 2, counters: counters(100) }), 500);
    m.sample(500);
    m.telemetry("A", frame({ load: 4, counters: counters(100) }), 900);
    m.sample(1000);
    const s = m.snapshot(1000);
    expect(s.series).toEqual({
      t: [0, 500, 1000],
      rate: [0, 200, 200],
      loads: { O: [1, 2, 2], A: [null, null, 4] },
    });
    expect(s.totals.rate).toBe(200);
  });

  test("a peer silent too long is quiet while the job runs; the end freezes the view", () => {
    const m = new DashboardModel("app.ts");
    m.started("O", 0);
    m.telemetry("A", frame(), 0);
    expect(m.snapshot(QUIET_MS + 1).peers[0].quiet).toBe(true);
    m.telemetry("A", frame(), QUIET_MS + 2);
    m.finished(false, "BadInput: cannot take 9", QUIET_MS + 3);
    const s = m.snapshot(10 * QUIET_MS);
    expect([s.state, s.outcome, s.elapsed, s.peers[0].quiet]).toEqual([
      "failed",
      "BadInput: cannot take 9",
      QUIET_MS + 3,
      false,
    ]);
  });

  test("the tree across peers: parents heard of late, where each task ran", () => {
    const m = new DashboardModel("app.ts");
    m.started("O", 0);
    // A ran O:1 and submitted A:1 and A:2 under it; its frame comes before the origin's.
    m.telemetry("A", frame({ edges: [["O:1", 1, "leaf"], ["O:1", 2, "leaf"]], ran: ["O:1"] }), 0);
    expect(m.tree().nodes).toContainEqual(["O:1", "?", "", "A"]);
    // B ran A:2 before the origin told of O:1's submit.
    m.telemetry("B", frame({ ran: ["A:2", "Z:9"] }), 0);
    m.telemetry("O", frame({ edges: [["", 1, "root"]] }), 0);
    expect(m.tree().nodes).toEqual([
      ["A:1", "O:1", "leaf", ""],
      ["O:1", "", "root", "A"],
      ["A:2", "O:1", "leaf", "B"],
    ]);
  });

  test("the tree keeps its first nodes and counts the rest; it is sent only when it changed", () => {
    const m = new DashboardModel("app.ts");
    m.started("O", 0);
    const edges = (from: number, n: number): [string, number, string][] =>
      Array.from({ length: n }, (_, i) => ["", from + i, "t"]);
    m.telemetry("O", frame({ edges: edges(1, MAX_TREE_NODES - 1) }), 0);
    const v = m.tree().version;
    expect(m.snapshot(0, v).tree).toBeUndefined();
    m.telemetry("O", frame({ edges: edges(MAX_TREE_NODES, 5), more: 7 }), 0);
    const s = m.snapshot(0, v);
    expect([s.tree?.nodes.length, s.omitted]).toEqual([MAX_TREE_NODES, 4 + 7]);
    // Only counts past the bound: the tree is the same, and not sent again.
    m.telemetry("O", frame({ edges: edges(2 * MAX_TREE_NODES, 3) }), 0);
    const again = m.snapshot(0, s.tree!.version);
    expect([again.tree, again.omitted]).toEqual([undefined, 14]);
  });
});

describe("the executor's record of the tree", () => {
  test("bounded, and told in one message", async () => {
    const told = Promise.withResolvers<TreeMessage>();
    const tree = new TreeRecorder(told.resolve);
    for (let i = 1; i <= MAX_TREE_EDGES + 3; i++) tree.submitted("O:1", i, "f");
    tree.started("O:1");
    const m = await told.promise;
    expect([m.edges.length, m.edges[0], m.ran, m.more]).toEqual([
      MAX_TREE_EDGES,
      ["O:1", 1, "f"],
      ["O:1"],
      3,
    ]);
  });
});

describe("the server", () => {
  test("serves the page and the state; a busy port is a usage error naming it", async () => {
    const model = new DashboardModel("app.ts");
    const server = await serveDashboard(model);
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await (await fetch(server.url)).text();
      expect(page).toContain("<title>scoop dashboard</title>");
      const state = await (await fetch(`${server.url}state`)).json();
      expect([state.entry, state.state, state.tree]).toEqual([
        "app.ts",
        "starting",
        { version: 0, nodes: [] },
      ]);
      expect((await fetch(`${server.url}nothing`)).status).toBe(404);
      const port = Number(new URL(server.url).port);
      const busy = serveDashboard(model, { port });
      await expect(busy).rejects.toThrow(UsageError);
      await expect(busy).rejects.toThrow(
        `Cannot serve the dashboard on 127.0.0.1:${port}: the port is in use`,
      );
    } finally {
      await server.close();
    }
  });

  test("a malformed request target is a 400, a foreign Host a 403; the server goes on", async () => {
    const server = await serveDashboard(new DashboardModel("app.ts"));
    const port = Number(new URL(server.url).port);
    /** The status line of a raw request. */
    const raw = (target: string, host: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1", () => {
          socket.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
        });
        let got = "";
        socket.on("data", (d) => got += d);
        socket.on("end", () => resolve(got.split("\r\n")[0]));
        socket.on("error", reject);
      });
    try {
      expect(await raw("//[", "127.0.0.1")).toMatch(/^HTTP\/1\.1 400/);
      expect(await raw("/state", `rebound.example:${port}`)).toMatch(/^HTTP\/1\.1 403/);
      expect(await raw("/state", `localhost:${port}`)).toMatch(/^HTTP\/1\.1 200/);
      expect((await fetch(`${server.url}state`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  test("closes while a page keeps its connection open", async () => {
    const server = await serveDashboard(new DashboardModel("app.ts"));
    await fetch(`${server.url}state`, { keepalive: true });
    await server.close();
    await expect(fetch(server.url)).rejects.toThrow();
  });
});

describe("--dashboard values", () => {
  test.each([
    ["", { port: 0 }],
    ["0", { port: 0 }],
    ["8080", { port: 8080 }],
    ["0.0.0.0:9000", { host: "0.0.0.0", port: 9000 }],
    ["[::1]:9000", { host: "::1", port: 9000 }],
  ])("%j", (text, address) => {
    expect(dashboardAddress(text)).toEqual(address);
  });

  test.each(["70000", "abc", "host:", "-1"])("%j is refused", (text) => {
    expect(() => dashboardAddress(text)).toThrow(
      `--dashboard must be a port from 0 to 65535 (0 or none: a free one) or HOST:PORT, got "${text}"`,
    );
  });
});

test("a port someone else holds is refused the same way", async () => {
  const other = createServer();
  await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
  const port = (other.address() as AddressInfo).port;
  try {
    await expect(serveDashboard(new DashboardModel("app.ts"), { port })).rejects.toThrow(
      /the port is in use \(give another with --dashboard PORT, or none for a free one\)/,
    );
  } finally {
    other.close();
  }
});
