/**
 * The progress bar of a job: how many of the tasks `main` submitted are done, their rate, the
 * time left and the failures, on stderr. Drawn by cli-progress (3.12.0), fed by main's thread
 * (see `executor/progress.ts`). Shown only once work has been under way for a second (a short
 * job never flashes one); in a terminal it redraws in place, elsewhere (`--progress` into a
 * file or a pipe) it prints a line every two seconds.
 *
 * @module
 */
import cliProgress from "cli-progress";
import type { Writable } from "node:stream";

/** Counts of main's tasks, as main's thread tells them. */
export interface Progress {
  submitted: number;
  settled: number;
  failed: number;
}

/** How long work must have been under way before the bar shows, in ms. */
export const SHOW_AFTER_MS = 1000;
/** Seconds over which the rate is averaged. */
const RATE_WINDOW_S = 5;

/** A job's progress bar (see the module doc). */
export class ProgressBar {
  #stream: Writable & { isTTY?: boolean };
  #now: () => number;
  #bar: InstanceType<typeof cliProgress.SingleBar> | undefined;
  #since: number | undefined;
  #samples: [at: number, settled: number][] = [];

  constructor(stream: Writable & { isTTY?: boolean }, now: () => number = Date.now) {
    this.#stream = stream;
    this.#now = now;
  }

  /** Main's thread told new counts. */
  update(p: Progress): void {
    const now = this.#now();
    this.#since ??= now;
    this.#samples.push([now, p.settled]);
    while (this.#samples.length > 2 && now - this.#samples[0][0] > RATE_WINDOW_S * 1000) {
      this.#samples.shift();
    }
    const [t0, s0] = this.#samples[0];
    const perSecond = now > t0 ? ((p.settled - s0) * 1000) / (now - t0) : 0;
    const left = p.submitted - p.settled;
    const payload = {
      rate: Math.round(perSecond),
      failed: p.failed,
      left: left === 0 ? "0s" : perSecond > 0 ? duration(left / perSecond) : "?",
    };
    if (this.#bar === undefined) {
      if (now - this.#since < SHOW_AFTER_MS || p.settled >= p.submitted) return;
      this.#bar = new cliProgress.SingleBar({
        stream: this.#stream,
        format: "scoop [{bar}] {value}/{total} tasks | {rate}/s | ETA {left} | " +
          "{failed} failed",
        barsize: 24,
        hideCursor: true,
        noTTYOutput: true,
      }, cliProgress.Presets.legacy);
      this.#bar.start(p.submitted, p.settled, payload);
      return;
    }
    this.#bar.setTotal(p.submitted);
    this.#bar.update(p.settled, payload);
  }

  /** The job ended: draw the last state and leave the line. */
  stop(): void {
    this.#bar?.stop();
    this.#bar = undefined;
  }
}

/** Seconds as `42s`, `3m05s` or `2h07m`. */
export function duration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
