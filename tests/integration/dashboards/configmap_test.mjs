#!/usr/bin/env node
// Reads dashboards/grafana/configmap.yaml with a real YAML parser (not the generator's own logic)
// and checks that it is the sidecar ConfigMap of exactly the dashboard JSON files beside it: one
// data key per file, each the file's text byte for byte and so the same JSON.
//
// usage: node configmap_test.mjs [--modules DIR] CONFIGMAP.yaml DASHBOARD_DIR
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
let modulesDir = path.dirname(fileURLToPath(import.meta.url));
if (args[0] === "--modules") modulesDir = path.resolve(args.splice(0, 2)[1]);
if (args.length !== 2) {
  console.error("usage: node configmap_test.mjs [--modules DIR] CONFIGMAP.yaml DASHBOARD_DIR");
  process.exit(2);
}
const [configmapFile, dashboardDir] = args;
const YAML = createRequire(path.join(modulesDir, "package.json"))("yaml");
const REGENERATE = "run dashboards/grafana/make-configmap";

const doc = YAML.parseDocument(fs.readFileSync(configmapFile, "utf8"), { uniqueKeys: true });
if (doc.errors.length || doc.warnings.length) {
  console.error(`${configmapFile}: not valid YAML:\n${[...doc.errors, ...doc.warnings].join("\n")}\n${REGENERATE}`);
  process.exit(1);
}
const cm = doc.toJS();
const files = fs.readdirSync(dashboardDir).filter((f) => f.endsWith(".json")).sort();

let passed = 0, failed = 0;
function expect(what, check) {
  try {
    check();
    passed++;
    console.log(`ok   ${what}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${what}: ${e.message.split("\n")[0]}`);
  }
}
const is = (value, want) => assert.deepEqual(value, want, `is ${JSON.stringify(value)}, not ${JSON.stringify(want)}`);
expect("is a v1 ConfigMap", () => is([cm?.apiVersion, cm?.kind], ["v1", "ConfigMap"]));
// The sidecar compares label values as strings: an unquoted 1 would be a number and not match.
expect('carries the sidecar label grafana_dashboard: "1"', () => is(cm.metadata?.labels?.grafana_dashboard, "1"));
expect("names a folder in the grafana_folder annotation", () => assert.match(String(cm.metadata?.annotations?.grafana_folder ?? ""), /\S/, "missing or empty"));
expect(`has one data key per dashboard (${files.join(", ")})`, () => is(Object.keys(cm.data ?? {}).sort(), files));
for (const f of files) {
  const text = fs.readFileSync(path.join(dashboardDir, f), "utf8");
  expect(`data["${f}"] is the file's text`, () => assert.ok(cm.data?.[f] === text, "differs"));
  expect(`data["${f}"] parses as the file's JSON`, () => assert.deepEqual(JSON.parse(cm.data?.[f] ?? "null"), JSON.parse(text), "a different value"));
}
console.log(`${passed} passed, ${failed} failed`);
if (failed) console.error(`${configmapFile} does not match ${dashboardDir}/*.json: ${REGENERATE}`);
process.exitCode = failed ? 1 : 0;
