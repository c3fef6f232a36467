/**
 * Build the npm package's JavaScript into `dist/`: every module of `mod.ts`, `cli.ts` and `src/`
 * compiled one file to one file by esbuild (no bundling), the same tree as the sources, so that
 * what is found next to a module at run time (the executor's worker, the launcher's child
 * script, `cli.ts` for the peers it starts elsewhere) is found next to it in `dist/` too. Run by
 * `npm pack` and `npm publish` (the `prepack` script). Deno will not run TypeScript under
 * `node_modules`; Bun would, but both runtimes get the same files.
 *
 *     bun scripts/build.ts
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const OUT = join(ROOT, "dist");

/** `dir`'s TypeScript modules, tests excluded, recursively. */
function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".test.ts"))
    .map((e) => join(e.parentPath, e.name));
}

/** A relative `.ts` specifier as the built tree names it. */
function toJs(spec: string): string {
  return spec.replace(/\.ts$/, ".js");
}

const entries = [join(ROOT, "mod.ts"), join(ROOT, "cli.ts"), ...modules(join(ROOT, "src"))];
rmSync(OUT, { recursive: true, force: true });
await esbuild.build({
  entryPoints: entries,
  outdir: OUT,
  outbase: ROOT,
  // Bundling only so that the plugin sees every import: each one stays an import.
  bundle: true,
  format: "esm",
  platform: "node",
  target: "esnext",
  logLevel: "warning",
  plugins: [{
    name: "one-file-per-module",
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === "entry-point") return undefined;
        const spec = args.path;
        return { path: spec.startsWith(".") ? toJs(spec) : spec, external: true };
      });
    },
  }],
});
await esbuild.stop();

// Files found at run time by URL, not imported: `new URL("./child.ts", import.meta.url)`.
let urls = 0;
const built = readdirSync(OUT, { recursive: true, encoding: "utf8" }).filter((f) =>
  f.endsWith(".js")
);
for (const file of built) {
  const path = join(OUT, file);
  const text = readFileSync(path, "utf8");
  const fixed = text.replace(
    /new URL\((["'])(\.{1,2}\/[^"']*)\.ts\1, import\.meta\.url\)/g,
    (_, q: string, rest: string) => {
      urls++;
      return `new URL(${q}${rest}.js${q}, import.meta.url)`;
    },
  );
  if (fixed !== text) writeFileSync(path, fixed);
}
// peer.ts (executor), launch.ts (child), bin.ts, join.ts and remote.ts (cli), deps-bundle.ts (deps).
const EXPECTED_URLS = 6;
if (urls !== EXPECTED_URLS) {
  console.error(
    `scoop: build: rewrote ${urls} module URLs, expected ${EXPECTED_URLS}: check the \`new URL(…)\` in src`,
  );
  process.exit(1);
}
console.log(
  `scoop: built ${entries.length} modules into ${relative(process.cwd(), OUT) || "."}${sep}`,
);
