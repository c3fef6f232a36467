/**
 * The grid key: fresh per run for `cli.ts -n`, or shared through `--secret-file` /
 * `SCOOP_SECRET` for grids that span launches. Peers started by the launcher get it on their
 * standard input, never in argv.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import process from "node:process";
import { UsageError } from "../errors.ts";

/** A fresh random 32-byte key. */
export function freshKey(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

/**
 * The configured key: `--secret-file` wins over `SCOOP_SECRET`; undefined when neither is set.
 * Any text is a key (its bytes are hashed into the handshake), but it must not be empty.
 * @throws {UsageError} the file cannot be read or is empty
 */
export function configuredKey(secretFile?: string): Uint8Array | undefined {
  let text: string | undefined;
  if (secretFile !== undefined) {
    try {
      text = readFileSync(secretFile, "utf8");
    } catch (err) {
      throw new UsageError(
        `Cannot read the grid secret from ${secretFile}: ${
          (err as NodeJS.ErrnoException).code ?? err
        }`,
      );
    }
    if (text.trim() === "") throw new UsageError(`The grid secret file ${secretFile} is empty`);
  } else {
    text = process.env.SCOOP_SECRET;
    if (text === undefined) return undefined;
    if (text.trim() === "") throw new UsageError("SCOOP_SECRET is set but empty");
  }
  return new TextEncoder().encode(text.trim());
}

/**
 * The first line of standard input, without its line break; the rest of the input is left
 * alone (paused).
 * @throws {Error} the input ends before a line break
 */
export function stdinLine(): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString();
      const nl = text.indexOf("\n");
      if (nl < 0) return;
      done();
      resolve(text.slice(0, nl));
    };
    const onEnd = () => {
      done();
      reject(new Error("standard input ended before a line"));
    };
    const done = () => {
      process.stdin.off("data", onData);
      process.stdin.off("end", onEnd);
      process.stdin.pause();
    };
    process.stdin.on("data", onData);
    process.stdin.on("end", onEnd);
  });
}

/**
 * `--secret-file -`: the key is the first line of standard input (how the launcher hands it to
 * the peers it starts on other hosts).
 * @throws {UsageError} the input ends before a non-empty line
 */
export async function keyFromStdin(): Promise<Uint8Array> {
  const line = await stdinLine().catch((err) => {
    throw new UsageError(`Cannot read the grid secret: ${err.message}`);
  });
  if (line.trim() === "") throw new UsageError("The grid secret on standard input is empty");
  return new TextEncoder().encode(line.trim());
}

/** Hex form, for handing the key to a child on stdin. */
export function toHex(key: Uint8Array): string {
  return Array.from(key, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Inverse of {@link toHex}. */
export function fromHex(hex: string): Uint8Array {
  if (!/^([0-9a-f]{2})+$/.test(hex)) throw new UsageError("Malformed grid key from the launcher");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
