/**
 * Code that travels with the job: the entry module and everything it imports, bundled into one
 * ES module by esbuild, so that a peer with no copy of the app can run it. scoop's own modules
 * stay out of the bundle: each peer imports its own copy (its registry and executor are the
 * ones the bundle must use), through a placeholder specifier rewritten where the bundle lands.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** This copy of scoop's root directory (where `mod.ts` is). */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/**
 * How the bundle names a module of scoop's own: `scoop-self:/mod.ts`, `scoop-self:/src/….ts`,
 * by its source name also where scoop runs built (`mod.js`, as the npm package does).
 */
const SELF = "scoop-self:/";
/** This copy's module extension: `.ts` from the sources, `.js` built (see `scripts/build.ts`). */
const EXT = import.meta.url.endsWith(".js") ? ".js" : ".ts";

/** A job's code, as served to the peers that fetch it. */
export interface Bundle {
  /** The bundle: one ES module. */
  code: Uint8Array;
  /** SHA-256 of `code`, hex. */
  hash: string;
}

/** SHA-256 of `bytes`, hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Whether `path` (absolute) is one of scoop's own modules: `mod.ts` or under `src/`. */
function isSelf(path: string): boolean {
  const rel = relative(ROOT, path);
  return rel === `mod${EXT}` || (rel.startsWith(`src${sep}`) && !rel.includes("node_modules"));
}

/** The bundle's name of scoop's module at `path` (absolute). */
function selfName(path: string): string {
  return SELF + relative(ROOT, path).split(sep).join("/").replace(/\.js$/, ".ts");
}

const BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith("_")));

/**
 * Bundle the entry module at `path` with what it imports (npm packages included), except
 * scoop's own modules, Node's built-ins (`node:` added where missing, for Deno) and the
 * specifiers only a runtime resolves (`npm:`, `jsr:`, `http(s):`).
 * @throws {Error} esbuild's first error, in one line, naming the file and line
 */
export async function bundleEntry(path: string): Promise<Bundle> {
  const esbuild = await import("esbuild");
  const entry = resolve(path);
  try {
    const out = await esbuild.build({
      entryPoints: [entry],
      // Comments name files relative to the entry's directory: the same app bundles the same
      // on every host, and no absolute path travels.
      absWorkingDir: dirname(entry),
      bundle: true,
      write: false,
      format: "esm",
      platform: "node",
      target: "esnext",
      logLevel: "silent",
      // CommonJS packages that `require` a built-in need a `require` in an ES module.
      banner: {
        js: 'import { createRequire as __scoopRequire } from "node:module";\n' +
          "const require = __scoopRequire(import.meta.url);",
      },
      plugins: [{
        name: "scoop-externals",
        setup(build) {
          build.onResolve({ filter: /.*/ }, (args) => {
            const spec = args.path;
            if (spec === "scoop") return { path: `${SELF}mod.ts`, external: true };
            if (/^(npm|jsr|https?):/.test(spec)) return { path: spec, external: true };
            if (spec.startsWith("node:")) return { path: spec, external: true };
            if (BUILTINS.has(spec.split("/")[0])) return { path: `node:${spec}`, external: true };
            if (!spec.startsWith(".") && !spec.startsWith("/") && !spec.startsWith("file:")) {
              return undefined; // a package: bundled
            }
            const abs = spec.startsWith("file:")
              ? fileURLToPath(spec)
              : resolve(args.resolveDir, spec);
            if (isSelf(abs)) {
              return { path: selfName(abs), external: true };
            }
            return undefined;
          });
        },
      }],
    });
    const code = out.outputFiles[0].contents;
    return { code, hash: sha256(code) };
  } catch (err) {
    const e = err as { errors?: { text: string; location?: { file: string; line: number } }[] };
    const first = e.errors?.[0];
    if (first === undefined) throw err;
    const where = first.location ? ` (${first.location.file}:${first.location.line})` : "";
    throw new Error(`Cannot bundle ${path} to send it to other peers: ${first.text}${where}`);
  } finally {
    // esbuild's service process would keep Deno (and Bun) from exiting.
    await esbuild.stop();
  }
}

/** A fetched bundle written where this peer can import it. */
export interface InstalledBundle {
  /** `file://` URL of the module. */
  url: string;
  /** Remove it. Idempotent. */
  drop(): void;
}

/**
 * Write `bundle` to a fresh temporary directory, its imports of scoop's own modules pointed at
 * this peer's copy.
 */
export function installBundle(bundle: Bundle): InstalledBundle {
  const dir = mkdtempSync(join(tmpdir(), `scoop-code-${bundle.hash.slice(0, 12)}-`));
  const root = pathToFileURL(ROOT).href.replace(/\/?$/, "/");
  const text = new TextDecoder().decode(bundle.code).replace(
    /(["'])scoop-self:\/([^"'\n]*)\1/g,
    (_, quote: string, rest: string) => `${quote}${root}${rest.replace(/\.ts$/, EXT)}${quote}`,
  );
  const file = join(dir, "app.mjs");
  writeFileSync(file, text);
  let dropped = false;
  return {
    url: pathToFileURL(file).href,
    drop() {
      if (dropped) return;
      dropped = true;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
