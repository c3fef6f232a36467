/**
 * Every error class scoop throws, in one place. Each class names one condition a caller may
 * catch; data lives in readonly fields and lower-level errors are wrapped with `{ cause }`.
 *
 * @module
 */

/** A wait ran out of time: `Future.result({timeout})`, `asCompleted`, `getConst`, `map`. */
export class TimeoutError extends Error {
  static override name = "TimeoutError";
  /** The timeout that expired, in milliseconds. */
  readonly timeout: number;
  constructor(message: string, timeout: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "TimeoutError";
    this.timeout = timeout;
  }
}

/** The future was cancelled before its task started. */
export class CancelledError extends Error {
  static override name = "CancelledError";
  constructor(message = "Future was cancelled before its task started", options?: ErrorOptions) {
    super(message, options);
    this.name = "CancelledError";
  }
}

/**
 * A task failed on some peer. `name`, `message` and `stack` are the task's own error's (so a
 * task that throws `BadInput` rejects with `e.name === "BadInput"`); `peerId` says which peer
 * ran it. The same object crosses any depth of nesting unchanged.
 */
export class TaskError extends Error {
  /** Id of the peer whose task threw. */
  readonly peerId: string;
  constructor(
    name: string,
    message: string,
    stack: string | undefined,
    peerId: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = name;
    this.peerId = peerId;
    if (stack !== undefined) this.stack = stack;
  }
}

/** A task name received or submitted is not in this peer's task registry. */
export class UnknownTaskError extends Error {
  static override name = "UnknownTaskError";
  /** The task name that was looked up. */
  readonly taskName: string;
  constructor(taskName: string) {
    super(
      `Cannot run task "${taskName}": no such task is registered on this peer ` +
        `(export it from the entry module or register it with task())`,
    );
    this.name = "UnknownTaskError";
    this.taskName = taskName;
  }
}

/**
 * Code on a peer's executor tried to end it (`process.exit`, `Deno.exit`, `self.close`): the
 * executor runs on, and the task that called it fails with this error.
 */
export class WorkerExitError extends Error {
  static override name = "WorkerExitError";
  /** The exit code asked for. */
  readonly code: number | undefined;
  constructor(message: string, code: number | undefined) {
    super(message);
    this.name = "WorkerExitError";
    this.code = code;
  }
}

/** The grid cannot be used: not started, shut down, or a peer was lost with no recovery. */
export class GridError extends Error {
  static override name = "GridError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "GridError";
  }
}

/** Two peers refused each other: another grid name, protocol version or entry module. */
export class MembershipError extends Error {
  static override name = "MembershipError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MembershipError";
  }
}

/** A frame from a peer was malformed, too large or otherwise invalid; its link is closed. */
export class ProtocolError extends Error {
  static override name = "ProtocolError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProtocolError";
  }
}

/** A command-line usage error: bad option, missing entry, entry without `main`. */
export class UsageError extends Error {
  static override name = "UsageError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}
