/**
 * Main's thread counts the tasks `main` submits and how many settled, and tells the mesh
 * thread at most every `PROGRESS_MS` while counts change (the launcher's progress bar, see
 * `launcher/progress.ts`). Counting is two increments on paths that exist anyway.
 *
 * @module
 */

/** How often main's thread tells its counts, at most, in ms. */
export const PROGRESS_MS = 200;

/** What main's thread posts. */
export interface ProgressMessage {
  t: "progress";
  submitted: number;
  settled: number;
  failed: number;
}

/** The counts of one thread's submitted tasks, told through `post` (see the module doc). */
export class ProgressCounter {
  #counts: ProgressMessage = { t: "progress", submitted: 0, settled: 0, failed: 0 };
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly post: (m: ProgressMessage) => void) {}

  submitted(): void {
    this.#counts.submitted++;
    this.#schedule();
  }

  /** A task settled: with a value, a failure, or cancelled. */
  settled(ok: boolean): void {
    this.#counts.settled++;
    if (!ok) this.#counts.failed++;
    this.#schedule();
  }

  /** Tell the counts now (if any changed since last told). */
  flush(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.post({ ...this.#counts });
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.post({ ...this.#counts });
    }, PROGRESS_MS);
  }
}
