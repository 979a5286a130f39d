// Parse Firestore security rules with the grammar of prettier-plugin-firestore-rules.
// Usage: node check.mjs FILE. Prints, as JSON, every `allow` with its full match path and
// scopes ({"allows": [{"path", "scopes"}]}), for the tests to hold against the contract;
// exit 1 with file:line:column on a syntax error.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { parse } = require("prettier-plugin-firestore-rules/out/parser/parser");

function* allows(nodes, prefix) {
  for (const node of nodes ?? []) {
    if (node.type === "service") yield* allows(node.content, prefix);
    if (node.type === "match") yield* allows(node.content, prefix + node.path);
    if (node.type === "allow") yield { path: prefix, scopes: node.scopes };
  }
}

const [file] = process.argv.slice(2);
if (!file) {
  console.error("usage: node check.mjs FILE");
  process.exit(2);
}
let tree;
try {
  tree = parse(readFileSync(file, "utf8"));
} catch (error) {
  if (!error.location) throw error;
  const { line, column } = error.location.start;
  console.error(`${file}:${line}:${column}: ${error.message}`);
  process.exit(1);
}
console.log(JSON.stringify({ allows: [...allows(tree.content, "")] }));
