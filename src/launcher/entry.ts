/**
 * The entry module: where it is, and the hash of its code that every peer checks at the
 * handshake (peers running other code refuse each other).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { UsageError } from "../errors.ts";
import { bundleEntry } from "../code/bundle.ts";
import type { CodeOffer, CodeSource } from "../mesh/code.ts";

/** A resolved entry module. */
export interface Entry {
  /** Absolute file path. */
  path: string;
  /** `file://` URL, for `import()`. */
  url: string;
  /** SHA-256 of the file's bytes, hex. */
  hash: string;
}

/**
 * Resolve and hash the entry module.
 * @throws {UsageError} the file does not exist or is not a file
 */
export function loadEntry(file: string): Entry {
  const path = resolve(file);
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    // reported below
  }
  if (!isFile) {
    throw new UsageError(
      `Cannot start: entry file not found: ${file} (give the path of your app.ts)`,
    );
  }
  const hash = createHash("sha256").update(readFileSync(path)).digest("hex");
  return { path, url: pathToFileURL(path).href, hash };
}

/**
 * The entry's code as served to peers that join without it: bundled at the first request (most
 * grids never get one), then the same bundle each time.
 */
export function entryCode(entry: Entry): CodeSource {
  let built: Promise<CodeOffer> | undefined;
  return () => built ??= bundleEntry(entry.path).then((b) => ({ ...b, app: entry.hash }));
}
