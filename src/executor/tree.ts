/**
 * The task tree for the origin's dashboard, as one executor thread sees it: which task (or
 * `main`) submitted which, and which tasks started here. Recorded only once the peer is told
 * a dashboard watches (a `watch` message): until then the executor pays one `undefined` test
 * per submit and per start. Bounded: the first `MAX_TREE_EDGES` submits and the first
 * `MAX_TREE_RUNS` starts of this thread, told at most every `TREE_MS`.
 *
 * A task is named `owner:seq` (its owner's peer id and the seq there), as on the wire.
 *
 * @module
 */

/** How often a thread tells what it recorded, at most, in ms. */
export const TREE_MS = 500;
/** Submits recorded per thread; the rest are counted. */
export const MAX_TREE_EDGES = 500;
/** Starts recorded per thread. */
export const MAX_TREE_RUNS = 500;

/** A submit: the submitting task (`""` for `main` or none), and the new task's seq and name. */
export type TreeEdge = [parent: string, seq: number, name: string];

/** What a thread posts (see the module doc). */
export interface TreeMessage {
  t: "tree";
  edges: TreeEdge[];
  /** Tasks that started here. */
  ran: string[];
  /** Submits past `MAX_TREE_EDGES` since the last message. */
  more: number;
}

/** A thread's record of the tree, told through `post` (see the module doc). */
export class TreeRecorder {
  #edges: TreeEdge[] = [];
  #ran: string[] = [];
  #more = 0;
  #edgesLeft = MAX_TREE_EDGES;
  #runsLeft = MAX_TREE_RUNS;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly post: (m: TreeMessage) => void) {}

  /** `parent` submitted task `seq` of this peer, named `name`. */
  submitted(parent: string, seq: number, name: string): void {
    if (this.#edgesLeft > 0) {
      this.#edgesLeft--;
      this.#edges.push([parent, seq, name]);
    } else this.#more++;
    this.#schedule();
  }

  /** Task `node` started here. */
  started(node: string): void {
    if (this.#runsLeft <= 0) return;
    this.#runsLeft--;
    this.#ran.push(node);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.post({ t: "tree", edges: this.#edges, ran: this.#ran, more: this.#more });
      this.#edges = [];
      this.#ran = [];
      this.#more = 0;
    }, TREE_MS);
  }
}
