/**
 * Build the bytecode bundle of the mesh's third-party modules (see src/mesh/deps-bundle.ts).
 * Run by `npm install` (the `prepare` script); run it by hand after `bun install`. It never
 * fails the install: without the bundle, peers only start a little slower.
 *
 *     bun scripts/bundle-mesh.ts
 */
import process from "node:process";
import { buildMeshBundle, BUNDLE_DIR } from "../src/mesh/deps-bundle.ts";

try {
  await buildMeshBundle();
  console.log(`scoop: built the mesh bundle in ${BUNDLE_DIR}`);
} catch (err) {
  console.warn(`scoop: skipped the mesh bundle (peers start slower): ${(err as Error).message}`);
}
process.exit(0);
