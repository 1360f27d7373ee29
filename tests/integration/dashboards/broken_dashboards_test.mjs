#!/usr/bin/env node
// The negative case for validate.mjs: copies of one good dashboard, each broken in one way, must
// each be reported with the JSON path and the rule, while the unbroken copy passes (so a validator
// that rejects everything fails this test too).
//
// usage: node broken_dashboards_test.mjs [--modules DIR] DASHBOARD.json
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const modules = args[0] === "--modules" ? args.splice(0, 2) : [];
if (args.length !== 1) {
  console.error("usage: node broken_dashboards_test.mjs [--modules DIR] DASHBOARD.json");
  process.exit(2);
}
const good = JSON.parse(fs.readFileSync(args[0], "utf8"));
if (!Array.isArray(good.panels) || good.panels.length < 2 || !good.panels[0].targets?.length) {
  console.error(`${args[0]}: needs two panels, the first with a target, to be broken`);
  process.exit(1);
}

// name: [how to break a copy, what the validator must print for it]
const cases = {
  "panels-not-an-array": [(d) => { d.panels = {}; }, "/panels: must be array [@grafana/schema"],
  "panel-without-title": [(d) => { delete d.panels[0].title; }, "/panels/0/title: missing or empty [project rule"],
  "panel-without-type": [(d) => { delete d.panels[1].type; }, "/panels/1/type: must have required property 'type' [@grafana/schema"],
  "target-without-refId": [(d) => { delete d.panels[0].targets[0].refId; }, "/panels/0/targets/0/refId: must have required property 'refId' [@grafana/schema"],
  "hard-coded-target-uid": [(d) => { d.panels[0].targets[0].datasource = { type: "prometheus", uid: "P1809F7CD0C75ACF3" }; }, '/panels/0/targets/0/datasource/uid: is "P1809F7CD0C75ACF3"'],
  "hard-coded-panel-uid": [(d) => { d.panels[1].datasource = { uid: "prometheus-main" }; }, '/panels/1/datasource/uid: is "prometheus-main"'],
  "misspelt-property": [(d) => { d.pannels = []; }, "/pannels: must NOT have additional properties [@grafana/schema"],
  "value-outside-enum": [(d) => { d.graphTooltip = 7; }, "/graphTooltip: must be equal to one of the allowed values"],
  "duplicate-panel-id": [(d) => { d.panels[1].id = d.panels[0].id; }, "/panels/1/id: "],
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "broken-dashboards-"));
try {
  const control = path.join(dir, "unbroken.json");
  fs.writeFileSync(control, JSON.stringify(good, null, 2));
  const files = [control];
  for (const [name, [breakIt]] of Object.entries(cases)) {
    const copy = structuredClone(good);
    breakIt(copy);
    files.push(path.join(dir, `${name}.json`));
    fs.writeFileSync(files.at(-1), JSON.stringify(copy, null, 2));
  }

  // One run for all files: the schema is generated once.
  const validator = path.join(path.dirname(fileURLToPath(import.meta.url)), "validate.mjs");
  const run = spawnSync(process.execPath, [validator, ...modules, ...files], { encoding: "utf8" });
  console.log("validate.mjs on the copies (every broken one must be reported):");
  process.stdout.write(run.stdout + run.stderr);

  let passed = 0, failed = 0;
  const verdict = (ok, what) => { ok ? passed++ : failed++; console.log(`${ok ? "ok  " : "FAIL"} ${what}`); };
  verdict(run.status === 1, `validator exits 1 (it exited ${run.status})`);
  verdict(run.stdout.includes(`${control}: valid`), "the unbroken copy passes");
  for (const [name, [, expected]] of Object.entries(cases)) {
    verdict(run.stderr.includes(`${path.join(dir, name)}.json: ${expected}`), `${name} is reported as "${expected}"`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
