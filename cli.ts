/**
 * The scoop launcher.
 *
 *     bun cli.ts -n 4 app.ts [args for main…]
 *     deno run -A cli.ts -n 4 app.ts [args for main…]
 *
 * The command line itself lives in `src/launcher/cli.ts`; this file first runs the preflight
 * (on Bun it may re-execute the process with the allocator settings peers need), before any
 * other module is even loaded.
 *
 * @module
 */
import process from "node:process";
import "./src/launcher/preflight.ts";

const { runCli } = await import("./src/launcher/cli.ts");
await runCli(process.argv.slice(2));
