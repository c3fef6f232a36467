/**
 * Loading the mesh's third-party modules (`deps.ts`) fast. Importing libp2p from its hundreds
 * of ES module files costs each peer process ~0.25 CPU-seconds on Bun; one bundle of them with
 * precompiled bytecode costs ~0.1 (bench/RESULTS.md, startup). `npm install` builds the bundle
 * (the `prepare` script, `bun scripts/bundle-mesh.ts`) into `node_modules/.cache/scoop-mesh/`,
 * stamped with what it was built from; a peer on Bun uses it only when the stamp still matches,
 * and otherwise, or on Deno, imports the modules themselves. A missing or stale bundle only
 * makes start-up slower.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import process from "node:process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runtime } from "../runtime/mod.ts";
import type * as Deps from "./deps.ts";

/** The modules `deps.ts` exports. */
export type MeshDeps = typeof Deps;

declare const Bun: {
  version: string;
  build(options: Record<string, unknown>): Promise<{ success: boolean; logs: unknown[] }>;
};

const DEPS = fileURLToPath(new URL("./deps.ts", import.meta.url));
const ROOT = join(dirname(DEPS), "..", "..");
const NODE_MODULES = join(ROOT, "node_modules");
/** Where the bundle lives (the functions below take another directory for tests). */
export const BUNDLE_DIR = join(NODE_MODULES, ".cache", "scoop-mesh");
/** The packages `deps.ts` takes something from. */
const PACKAGES = [
  "@chainsafe/libp2p-noise",
  "@chainsafe/libp2p-yamux",
  "@libp2p/tcp",
  "libp2p",
  "@multiformats/multiaddr",
];

/**
 * What a bundle built now would be built from: the runtime's version, `deps.ts`, the versions
 * of its packages, and when npm last changed `node_modules` (which covers their dependencies).
 */
export function currentStamp(): string {
  const h = createHash("sha256");
  h.update(runtime === "bun" ? Bun.version : runtime).update("\0").update(readFileSync(DEPS));
  for (const name of PACKAGES) {
    const pkg = JSON.parse(readFileSync(join(NODE_MODULES, name, "package.json"), "utf8"));
    h.update(`\0${name}@${pkg.version}`);
  }
  const lock = join(NODE_MODULES, ".package-lock.json");
  if (existsSync(lock)) h.update(`\0${statSync(lock).mtimeMs}`);
  return h.digest("hex");
}

/** Which copy `loadMeshDeps` used last: the bundle, or the modules themselves. */
export let meshDepsSource: "bundle" | "modules" | undefined;

let loaded: Promise<MeshDeps> | undefined;

/** The mesh's third-party modules: from a fresh bundle on Bun, else from `deps.ts`. */
export function loadMeshDeps(): Promise<MeshDeps> {
  return loaded ??= loadFrom(BUNDLE_DIR);
}

/** @internal `loadMeshDeps` from the bundle in `dir`, if fresh (exported for tests). */
export async function loadFrom(dir: string): Promise<MeshDeps> {
  if (runtime === "bun") {
    try {
      if (readFileSync(join(dir, "stamp"), "utf8") === currentStamp()) {
        const deps = createRequire(import.meta.url)(join(dir, "deps.js")) as MeshDeps;
        meshDepsSource = "bundle";
        return deps;
      }
    } catch {
      // no bundle, or an unreadable one: the modules themselves will do
    }
  }
  meshDepsSource = "modules";
  return await import("./deps.ts");
}

/**
 * Build the bundle (Bun only) into `dir`, replacing any older one.
 * @throws {Error} not on Bun, or the build failed (with the bundler's messages)
 */
export async function buildMeshBundle(dir = BUNDLE_DIR): Promise<void> {
  if (runtime !== "bun") {
    throw new Error("the mesh bundle is built with Bun's bundler: run it with bun");
  }
  const stamp = currentStamp();
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const out = await Bun.build({
    entrypoints: [DEPS],
    outdir: tmp,
    target: "bun",
    format: "cjs",
    bytecode: true,
  });
  if (!out.success) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`bun build failed: ${out.logs.map(String).join("; ")}`);
  }
  writeFileSync(join(tmp, "stamp"), stamp);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}
