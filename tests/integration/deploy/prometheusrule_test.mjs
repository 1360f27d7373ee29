#!/usr/bin/env node
// Reads config/deploy/monitoring/prometheusrule.yaml and dashboards/rules/*.rules.yml with a real
// YAML parser (not make-prometheusrule's text logic) and checks that the PrometheusRule holds
// exactly the rule files' groups, in file order, value for value.
//
// usage: node prometheusrule_test.mjs [--modules DIR] SOURCE_ROOT
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
let modulesDir = path.dirname(fileURLToPath(import.meta.url));
if (args[0] === "--modules") modulesDir = path.resolve(args.splice(0, 2)[1]);
if (args.length !== 1) {
  console.error("usage: node prometheusrule_test.mjs [--modules DIR] SOURCE_ROOT");
  process.exit(2);
}
const root = path.resolve(args[0]);
const YAML = createRequire(path.join(modulesDir, "package.json"))("yaml");
const REGENERATE = "run config/deploy/monitoring/make-prometheusrule";
const ruleFile = path.join(root, "config/deploy/monitoring/prometheusrule.yaml");
const rulesDir = path.join(root, "dashboards/rules");

function load(file) {
  const doc = YAML.parseDocument(fs.readFileSync(file, "utf8"), { uniqueKeys: true });
  if (doc.errors.length || doc.warnings.length) throw new Error(`${file}: not valid YAML: ${[...doc.errors, ...doc.warnings].join("; ")}`);
  return doc.toJS();
}

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

const sources = fs.readdirSync(rulesDir).filter((f) => f.endsWith(".rules.yml")).sort();
const rule = load(ruleFile);
expect("is a monitoring.coreos.com/v1 PrometheusRule", () => is([rule?.apiVersion, rule?.kind], ["monitoring.coreos.com/v1", "PrometheusRule"]));
expect("has spec.groups and nothing else in spec", () => is(Object.keys(rule?.spec ?? {}), ["groups"]));
const groups = rule?.spec?.groups ?? [];
let offset = 0;
for (const f of sources) {
  const src = load(path.join(rulesDir, f));
  expect(`dashboards/rules/${f} has only groups`, () => is(Object.keys(src ?? {}), ["groups"]));
  const want = src?.groups ?? [];
  const got = groups.slice(offset, offset + want.length);
  expect(`its ${want.length} groups (${want.map((g) => g.name).join(", ")}) are in the PrometheusRule, value for value`, () => assert.deepEqual(got, want, "differ"));
  offset += want.length;
}
expect(`the PrometheusRule has no other group (${groups.length} in all)`, () => is(groups.length, offset));
console.log(`${passed} passed, ${failed} failed`);
if (failed) console.error(`${ruleFile} does not match ${rulesDir}/*.rules.yml: ${REGENERATE}`);
process.exitCode = failed ? 1 : 0;
