/**
 * Loading the mesh's third-party modules (`deps.ts`) fast. Importing libp2p from its hundreds
 * of ES module files costs each peer process ~0.25 CPU-seconds; one bundle of them costs ~0.1
 * (bench/RESULTS.md, startup). `npm install` builds two (the `prepare` script,
 * `bun scripts/bundle-mesh.ts`) into `node_modules/.cache/scoop-mesh/`: precompiled bytecode for
 * Bun, one ES module for Deno, each stamped with what it was built from. A peer uses its
 * runtime's bundle only while the stamp still matches, and otherwise imports the modules
 * themselves: a missing or stale bundle only makes start-up slower.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import process from "node:process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { logger } from "../log.ts";
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
  "@libp2p/mdns",
  "libp2p",
  "@multiformats/multiaddr",
];

/**
 * What a bundle built now would be built from: `flavour` (the Bun version for bytecode, which
 * only that version can run; "esm" for plain JavaScript), `deps.ts`, the versions of its
 * packages, and when npm last changed `node_modules` (which covers their dependencies).
 */
export function currentStamp(flavour: string): string {
  const h = createHash("sha256");
  h.update(flavour).update("\0").update(readFileSync(DEPS));
  for (const name of PACKAGES) {
    const pkg = JSON.parse(readFileSync(join(NODE_MODULES, name, "package.json"), "utf8"));
    h.update(`\0${name}@${pkg.version}`);
  }
  const lock = statSync(join(NODE_MODULES, ".package-lock.json"), { throwIfNoEntry: false });
  if (lock !== undefined) h.update(`\0${Math.trunc(lock.mtimeMs)}`); // runtimes round differently
  return h.digest("hex");
}

/** The two bundles: bytecode for this Bun version, and one ES module for Deno. */
const BUNDLES = {
  bun: { file: "deps.js", stamp: "stamp.bun", flavour: () => `bun ${Bun.version}` },
  deno: { file: "deps.mjs", stamp: "stamp.esm", flavour: () => "esm" },
} as const;

/** Which copy `loadMeshDeps` used last: the bundle, or the modules themselves. */
export let meshDepsSource: "bundle" | "modules" | undefined;

let loaded: Promise<MeshDeps> | undefined;

/** The mesh's third-party modules: from a fresh bundle, else from `deps.ts`. */
export function loadMeshDeps(): Promise<MeshDeps> {
  return loaded ??= loadFrom(BUNDLE_DIR);
}

/** @internal `loadMeshDeps` from the bundles in `dir`, if fresh (exported for tests). */
export async function loadFrom(dir: string): Promise<MeshDeps> {
  if (runtime === "bun" || runtime === "deno") {
    const b = BUNDLES[runtime];
    const path = join(dir, b.file);
    try {
      if (readFileSync(join(dir, b.stamp), "utf8") === currentStamp(b.flavour())) {
        const deps = runtime === "bun"
          ? createRequire(import.meta.url)(path) as MeshDeps
          : await import(pathToFileURL(path).href) as MeshDeps;
        meshDepsSource = "bundle";
        logger("mesh").debug(`libp2p loaded from the bundle ${path}`);
        return deps;
      }
    } catch (err) {
      // No bundle, or one being rebuilt right now: the modules themselves will do.
      if ((err as { code?: string }).code !== "ENOENT") {
        logger("mesh").debug(`cannot load the bundle ${path}: ${(err as Error).message}`);
      }
    }
  }
  meshDepsSource = "modules";
  logger("mesh").debug(`libp2p loaded from its modules (no fresh bundle in ${dir})`);
  return await import("./deps.ts");
}

/**
 * Build both bundles (with Bun's bundler, so on Bun) into `dir`, replacing older ones.
 * @throws {Error} not on Bun, or a build failed (with the bundler's messages)
 */
export async function buildMeshBundle(dir = BUNDLE_DIR): Promise<void> {
  if (runtime !== "bun") {
    throw new Error("the mesh bundle is built with Bun's bundler: run it with bun");
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    const builds = [
      { naming: BUNDLES.bun.file, target: "bun", format: "cjs", bytecode: true },
      { naming: BUNDLES.deno.file, target: "node", format: "esm" },
    ];
    for (const options of builds) {
      const out = await Bun.build({ entrypoints: [DEPS], outdir: tmp, ...options });
      if (!out.success) throw new Error(`bun build failed: ${out.logs.map(String).join("; ")}`);
    }
    for (const b of Object.values(BUNDLES)) {
      writeFileSync(join(tmp, b.stamp), currentStamp(b.flavour()));
    }
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}
