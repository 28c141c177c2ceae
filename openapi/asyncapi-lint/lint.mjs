// Validates the AsyncAPI document given as the first argument; any error
// (or warning) from the AsyncAPI parser fails the run.
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const path = process.argv[2];
const { document, diagnostics } = await new Parser().parse(readFileSync(path, "utf8"));
const severities = ["error", "warning", "info", "hint"];
for (const d of diagnostics) {
  console.log(`${severities[d.severity]} ${d.code} at /${d.path.join("/")}: ${d.message}`);
}
const failing = diagnostics.filter((d) => d.severity <= 1);
if (!document || failing.length > 0) {
  console.error(`${path}: ${failing.length} error(s) or warning(s)`);
  process.exit(1);
}
console.log(`${path}: a valid AsyncAPI ${document.version()} document`);
