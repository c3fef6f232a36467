/**
 * Code that travels with the job (src/code/bundle.ts): what goes into a bundle and what stays
 * out, and that a bundle installed elsewhere runs against this copy of scoop.
 */
import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleEntry, installBundle, sha256 } from "../../src/code/bundle.ts";
import { lookup } from "../../src/executor/registry.ts";

const ROOT = join(import.meta.dir, "..", "..");
const APP = join(ROOT, "tests", "fixtures", "travel", "app.ts");

test("the app, its own modules and its npm packages go in; scoop and Node's built-ins stay out", async () => {
  const bundle = await bundleEntry(APP);
  const text = new TextDecoder().decode(bundle.code);
  expect(bundle.hash).toBe(sha256(bundle.code));
  const has = (piece: string | RegExp) =>
    typeof piece === "string" ? text.includes(piece) : piece.test(text);
  expect({
    // The app's own module and the npm package are in it …
    ownModule: has("function greet("),
    npmPackage: has("node_modules/uint8arrays/"),
    // … scoop's modules are not (each peer imports its own), nor any path of this host.
    scoopImported: has('from "scoop-self:/mod.ts"'),
    scoopCode: has('Symbol.for("scoop.registry")'),
    absolutePath: has(ROOT),
    // A built-in written as "fs" is imported as "node:fs" (Deno needs the prefix).
    nodePrefixed: has('from "node:fs"'),
    bare: has(/from "fs"/),
  }).toEqual({
    ownModule: true,
    npmPackage: true,
    scoopImported: true,
    scoopCode: false,
    absolutePath: false,
    nodePrefixed: true,
    bare: false,
  });
  // The same app bundles to the same bytes.
  expect((await bundleEntry(APP)).hash).toBe(bundle.hash);
});

test("an installed bundle runs against this copy of scoop, and is gone once dropped", async () => {
  const installed = installBundle(await bundleEntry(APP));
  const file = fileURLToPath(installed.url);
  expect(dirname(file)).not.toBe(dirname(APP));
  const mod = await import(installed.url);
  expect(mod.hex([1, 255])).toBe("01ff");
  expect(mod.shout("grid")).toBe("HELLO, GRID");
  // Registered through the bundle's import of scoop: in this copy's registry.
  expect(lookup("travelShout")).toBe(mod.shout);
  installed.drop();
  expect(existsSync(file)).toBe(false);
  installed.drop(); // idempotent
});

test("an app that does not compile is refused in one line naming the file and line", async () => {
  const dir = mkdtempSync(join(tmpdir(), "scoop-bundle-"));
  const bad = join(dir, "bad.ts");
  writeFileSync(bad, "// line 1\nexport function broken(): number {\n  return (1 + ;\n}\n");
  await expect(bundleEntry(bad)).rejects.toThrow(
    /^Cannot bundle .*bad\.ts to send it to other peers: Unexpected ";" \(bad\.ts:3\)$/,
  );
  rmSync(dir, { recursive: true });
});
