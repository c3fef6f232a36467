#!/usr/bin/env node
/**
 * The npm package's `scoop` command (`npx scoop -n 4 app.ts`, `bunx scoop …`): `cli.ts` on the
 * runtime that started it. npm's and Bun's launchers start a package's command with Node (its
 * `#!` line); scoop's peers run on Bun or Deno, so under Node this starts `cli.ts` again on
 * `SCOOP_RUNTIME` if set, else on the runtime the package manager is (`bunx` → Bun, `deno run
 * npm:scoop` → Deno), else on Bun if there is one, else on Deno.
 *
 * @module
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { exitStatus } from "./exit.ts";

declare const Bun: unknown;
declare const Deno: unknown;

const CLI = new URL("../../cli.ts", import.meta.url);

/** The runtimes to try, best first. */
function candidates(): ("bun" | "deno")[] {
  const asked = process.env.SCOOP_RUNTIME;
  if (asked === "bun" || asked === "deno") return [asked];
  if (process.env.npm_config_user_agent?.startsWith("deno/")) return ["deno", "bun"];
  return ["bun", "deno"];
}

/** Start `cli.ts` on the first runtime of `order` that exists, and exit as it does. */
function relaunch(order: ("bun" | "deno")[]): void {
  const [name, ...rest] = order;
  const pre = name === "deno" ? ["run", "-A", "--quiet"] : [];
  const child = spawn(name, [...pre, fileURLToPath(CLI), ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  child.on("error", (err: Error & { code?: string }) => {
    if (err.code === "ENOENT" && rest.length > 0) return relaunch(rest);
    process.stderr.write(
      `scoop: cannot start ${name}: ${err.message} (scoop runs on Bun or Deno: install one, ` +
        "e.g. `npm install bun`)\n",
    );
    process.exit(127);
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.on("exit", (code, signal) => process.exit(exitStatus(code, signal)));
}

if (typeof Bun !== "undefined" || typeof Deno !== "undefined") {
  await import("../../cli.ts");
} else {
  relaunch(candidates());
}
