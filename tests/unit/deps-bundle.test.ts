import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  buildMeshBundle,
  currentStamp,
  loadFrom,
  meshDepsSource,
} from "../../src/mesh/deps-bundle.ts";

const dirs: string[] = [];
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), "scoop-mesh-"));
  dirs.push(d);
  return join(d, "bundle");
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("the mesh's third-party modules", () => {
  test("without a bundle they come from the modules themselves", async () => {
    const deps = await loadFrom(scratch());
    expect(meshDepsSource).toBe("modules");
    expect(typeof deps.createLibp2p).toBe("function");
  });

  test("a fresh bundle is used, a stale one is not", async () => {
    const dir = scratch();
    await buildMeshBundle(dir);
    const deps = await loadFrom(dir);
    expect(meshDepsSource).toBe("bundle");
    expect(typeof deps.createLibp2p).toBe("function");
    expect(typeof deps.multiaddr("/ip4/127.0.0.1/tcp/1").toString).toBe("function");
    // Deno's bundle is one ES module (the Deno integration suite loads it).
    const esm = await import(pathToFileURL(join(dir, "deps.mjs")).href);
    expect(typeof esm.createLibp2p).toBe("function");
    writeFileSync(join(dir, "stamp.bun"), "built from something else");
    await loadFrom(dir);
    expect(meshDepsSource).toBe("modules");
  }, 60_000);

  test("the stamp is stable while nothing changes", () => {
    expect(currentStamp("esm")).toBe(currentStamp("esm"));
    expect(currentStamp("esm")).toMatch(/^[0-9a-f]{64}$/);
    expect(currentStamp("bun 1.0.0")).not.toBe(currentStamp("esm"));
  });
});
