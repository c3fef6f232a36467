/**
 * The live dashboard of a job (`cli.ts --dashboard [PORT]`): a page served from the origin
 * that shows the peers and their hosts, load per peer over time, tasks per second, steals,
 * failures and re-runs, and the task tree, while the job runs and after it ends, until the
 * launcher closes it.
 *
 * The data path: the origin asks every peer for telemetry once a dashboard is open
 * (`core/dashboard.ts`); each peer then sends it a small frame every 500 ms (`frame.ts`) and
 * its threads record the task tree (`executor/tree.ts`), all bounded. Without a dashboard
 * nothing of this runs. The origin checks each frame and folds it into the model
 * (`model.ts`) that the server (`server.ts`) gives the page (`page.ts`).
 *
 * @module
 */
import process from "node:process";
import { ProtocolError } from "../errors.ts";
import { logger } from "../log.ts";
import type { Progress } from "../launcher/progress.ts";
import { DashboardModel } from "./model.ts";
import { type DashboardServer, serveDashboard, type ServeOptions } from "./server.ts";

export type { ServeOptions } from "./server.ts";

const log = logger("dashboard");
/** How often the charts take a sample, in ms (the peers' frames come as often). */
export const SAMPLE_MS = 500;

/** An open dashboard (see the module doc). */
export class Dashboard {
  readonly #model: DashboardModel;
  readonly #server: DashboardServer;
  #sampler: ReturnType<typeof setInterval> | undefined;
  /** Peers whose malformed frame was logged (one line each, not one per frame). */
  #refused = new Set<string>();

  private constructor(model: DashboardModel, server: DashboardServer) {
    this.#model = model;
    this.#server = server;
  }

  /**
   * Serve the dashboard of the job of `entry`.
   * @throws {UsageError} the port cannot be listened on
   */
  static async open(entry: string, options: ServeOptions = {}): Promise<Dashboard> {
    const model = new DashboardModel(entry);
    return new Dashboard(model, await serveDashboard(model, options));
  }

  /** How often peers are asked for telemetry, in ms. */
  get every(): number {
    return SAMPLE_MS;
  }

  /** `http://127.0.0.1:PORT/` */
  get url(): string {
    return this.#server.url;
  }

  /** `main` started on the origin `origin`: the charts start. */
  started(origin: string): void {
    this.#model.started(origin, Date.now());
    this.#sampler ??= setInterval(() => this.#model.sample(Date.now()), SAMPLE_MS);
  }

  /** A telemetry frame from peer `from`, unread: a malformed one is refused in one log line. */
  telemetry(from: string, frame: unknown): void {
    try {
      this.#model.telemetry(from, frame, Date.now());
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      if (this.#refused.has(from)) return;
      this.#refused.add(from);
      log.warn(`refused a telemetry frame from peer ${from} (and any more): ${err.message}`);
    }
  }

  /** Main's thread told its counts. */
  progress(p: Progress): void {
    this.#model.progress(p);
  }

  /** The job ended; `outcome` says how in one line. */
  finished(ok: boolean, outcome: string): void {
    this.#model.sample(Date.now());
    this.#model.finished(ok, outcome, Date.now());
    clearInterval(this.#sampler);
  }

  /**
   * Keep serving after the job: `seconds`, or until SIGINT or SIGTERM when undefined (either
   * also ends a given time early); then close. Says so in one line on stderr.
   */
  async linger(seconds: number | undefined): Promise<void> {
    if (seconds !== 0) {
      process.stderr.write(
        seconds === undefined
          ? `scoop: the dashboard stays at ${this.url} until Ctrl-C\n`
          : `scoop: the dashboard stays at ${this.url} for ${seconds} s (Ctrl-C closes it)\n`,
      );
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          process.off("SIGINT", done);
          process.off("SIGTERM", done);
          resolve();
        };
        const timer = seconds === undefined ? undefined : setTimeout(done, seconds * 1000);
        process.on("SIGINT", done);
        process.on("SIGTERM", done);
      });
    }
    await this.close();
  }

  /** Stop serving. */
  close(): Promise<void> {
    clearInterval(this.#sampler);
    return this.#server.close();
  }
}
