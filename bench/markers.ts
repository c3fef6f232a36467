/** Rewriting one generated part of `bench/RESULTS.md`, between `<!-- NAME -->` markers. */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), "RESULTS.md");

/** Put `text` between `<!-- name -->` and `<!-- /name -->` in bench/RESULTS.md, if both are there. */
export function writeBetweenMarkers(name: string, text: string): void {
  const doc = readFileSync(RESULTS, "utf8");
  const open = `<!-- ${name} -->`;
  const start = doc.indexOf(open);
  const end = doc.indexOf(`<!-- /${name} -->`);
  if (start < 0 || end < start) {
    process.stderr.write(`bench/RESULTS.md has no ${open} markers: not written\n`);
    return;
  }
  writeFileSync(RESULTS, `${doc.slice(0, start + open.length)}\n${text}\n${doc.slice(end)}`);
  process.stderr.write(`bench/RESULTS.md updated between the ${name} markers\n`);
}
