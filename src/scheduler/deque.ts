/**
 * The task deque of a peer: its own worker takes the newest tasks (depth first), thieves take
 * the oldest (the biggest subtrees, in one batch). A growable ring buffer: O(1) at both ends.
 * Cancelled entries are marked dead and skipped, never searched for.
 *
 * @module
 */

/** A queued task as the mesh thread keeps it: never decoded here. */
export interface TaskRecord {
  /** Peer id of the owner (who submitted it and awaits the result). */
  readonly owner: string;
  /** The owner's sequence number for it. */
  readonly seq: number;
  /** Registered task name. */
  readonly name: string;
  /** Encoded argument list. */
  readonly args: Uint8Array;
  /** Set when the task was cancelled while queued. */
  dead?: boolean;
  /** Set while the record sits in a deque. */
  queued?: boolean;
  /** Owner side: the peer a thief handed it to, while it runs there. */
  holder?: string;
}

/** Double-ended queue of {@link TaskRecord}s. */
export class TaskDeque {
  #buf: (TaskRecord | undefined)[] = new Array(64);
  #head = 0; // index of the oldest
  #size = 0; // slots in use, dead ones included
  #live = 0;

  /** Tasks that are queued and not cancelled. */
  get length(): number {
    return this.#live;
  }

  /** Add the newest task. */
  push(task: TaskRecord): void {
    if (this.#size === this.#buf.length) this.#grow();
    this.#buf[(this.#head + this.#size) % this.#buf.length] = task;
    this.#size++;
    this.#live++;
    task.queued = true;
  }

  /** Add a task at the oldest end (first to be stolen). */
  unshift(task: TaskRecord): void {
    if (this.#size === this.#buf.length) this.#grow();
    this.#head = (this.#head - 1 + this.#buf.length) % this.#buf.length;
    this.#buf[this.#head] = task;
    this.#size++;
    this.#live++;
    task.queued = true;
  }

  /** Take the newest live task. */
  pop(): TaskRecord | undefined {
    while (this.#size > 0) {
      const i = (this.#head + this.#size - 1) % this.#buf.length;
      const task = this.#buf[i]!;
      this.#buf[i] = undefined;
      this.#size--;
      task.queued = false;
      if (!task.dead) {
        this.#live--;
        return task;
      }
    }
    return undefined;
  }

  /** Take up to `n` of the oldest live tasks, oldest first. */
  shift(n: number): TaskRecord[] {
    const out: TaskRecord[] = [];
    while (this.#size > 0 && out.length < n) {
      const task = this.#buf[this.#head]!;
      this.#buf[this.#head] = undefined;
      this.#head = (this.#head + 1) % this.#buf.length;
      this.#size--;
      task.queued = false;
      if (!task.dead) {
        this.#live--;
        out.push(task);
      }
    }
    return out;
  }

  /** Mark a queued task cancelled; it is skipped when reached. False if it is not queued. */
  kill(task: TaskRecord): boolean {
    if (!task.queued || task.dead) return false;
    task.dead = true;
    this.#live--;
    return true;
  }

  /** Remove and return every live task (oldest first). */
  drain(): TaskRecord[] {
    return this.shift(Infinity);
  }

  #grow(): void {
    const next = new Array<TaskRecord | undefined>(this.#buf.length * 2);
    for (let i = 0; i < this.#size; i++) next[i] = this.#buf[(this.#head + i) % this.#buf.length];
    this.#buf = next;
    this.#head = 0;
  }
}
