/**
 * The progress bar (src/launcher/progress.ts) and main's counts that feed it
 * (src/executor/progress.ts), with a fake clock and a stream that records what is drawn.
 */
import { expect, test } from "bun:test";
import { Writable } from "node:stream";
import { duration, ProgressBar, SHOW_AFTER_MS } from "../../src/launcher/progress.ts";
import { PROGRESS_MS, ProgressCounter } from "../../src/executor/progress.ts";

/** A stream that keeps what is written; a terminal of 100 columns when `tty`. */
function sink(tty: boolean): Writable & { isTTY: boolean; columns: number; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return Object.assign(stream, { isTTY: tty, columns: 100, text: () => chunks.join("") });
}

/** A bar on a fake clock: `at(ms, counts)` moves the clock and updates the bar. */
function barOn(tty: boolean) {
  let now = 0;
  const out = sink(tty);
  const bar = new ProgressBar(out, () => now);
  const at = (ms: number, submitted: number, settled: number, failed = 0) => {
    now = ms;
    bar.update({ submitted, settled, failed });
  };
  return { out, bar, at };
}

test("nothing is drawn for a job shorter than a second; then done/total, rate, time left, failures", () => {
  const { out, bar, at } = barOn(false);
  at(0, 40, 0);
  at(SHOW_AFTER_MS - 1, 40, 4);
  expect(out.text()).toBe("");
  at(2000, 40, 10, 1); // 10 settled in 2 s: 5/s, 30 left: 6 s
  bar.stop();
  expect(out.text()).toMatch(/^scoop \[[=-]+\] 10\/40 tasks \| 5\/s \| ETA 6s \| 1 failed$/m);
});

test("in a terminal the bar is redrawn in place; the last state stays when it stops", () => {
  const { out, bar, at } = barOn(true);
  at(0, 100, 0);
  at(1500, 100, 30);
  at(3000, 100, 100, 2);
  bar.stop();
  const text = out.text();
  expect(text).toContain("\x1b[?25l"); // the cursor hidden while it draws…
  expect(text).toContain("\x1b[?25h"); // …and shown again
  expect(text).toMatch(/100\/100 tasks \| \d+\/s \| ETA 0s \| 2 failed/);
});

test("a job done before the bar would show never shows it", () => {
  const { out, bar, at } = barOn(true);
  at(0, 5, 0);
  at(5000, 5, 5);
  bar.stop();
  expect(out.text()).toBe("");
});

test("durations read as seconds, minutes or hours", () => {
  expect([duration(0.2), duration(42), duration(185), duration(7620)]).toEqual([
    "1s",
    "42s",
    "3m05s",
    "2h07m",
  ]);
});

test("main's counts are told at most every PROGRESS_MS, and at once on flush", async () => {
  const told: { submitted: number; settled: number; failed: number }[] = [];
  const counts = new ProgressCounter((m) => told.push(m));
  for (let i = 0; i < 1000; i++) counts.submitted();
  counts.settled(true);
  counts.settled(false);
  expect(told).toEqual([]);
  await new Promise((r) => setTimeout(r, PROGRESS_MS * 2));
  expect(told).toEqual([{ t: "progress", submitted: 1000, settled: 2, failed: 1 }]);
  counts.settled(true);
  counts.flush();
  expect(told.at(-1)).toEqual({ t: "progress", submitted: 1000, settled: 3, failed: 1 });
  expect(told.length).toBe(2);
});
