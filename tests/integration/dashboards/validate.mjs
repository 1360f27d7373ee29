#!/usr/bin/env node
// Validates Grafana dashboard JSON files offline against the Dashboard type that @grafana/schema
// ships (generated there from Grafana's CUE dashboard kind), plus this project's own rules.
//
// usage: node validate.mjs [--modules DIR] DASHBOARD.json...
//   DIR holds the node_modules installed from this folder's package-lock.json (default: this
//   folder). Exits 0 when every file passes; 1 with one "FILE: JSON_PATH: what [rule]" line per
//   problem otherwise; 2 on a usage error.
//
// The JSON Schema is generated at every run from the package's TypeScript declarations, so a
// version bump in the lock file is all it takes to validate against a newer Grafana schema.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const DATASOURCE_UID = "${datasource}";

function usage(message) {
  console.error(`validate.mjs: ${message}\nusage: node validate.mjs [--modules DIR] DASHBOARD.json...`);
  process.exit(2);
}

const args = process.argv.slice(2);
let modulesDir = path.dirname(fileURLToPath(import.meta.url));
if (args[0] === "--modules") {
  if (args.length < 2) usage("--modules needs a directory");
  modulesDir = path.resolve(args[1]);
  args.splice(0, 2);
}
if (args.length === 0) usage("no dashboard files given");

// The packages live in the build tree, not beside this script, and ESM imports resolve from the
// importing file: resolve them from DIR instead.
const require = createRequire(path.join(modulesDir, "package.json"));
const { createGenerator } = require("ts-json-schema-generator");
const Ajv = require("ajv");
const schemaPackageDir = path.dirname(require.resolve("@grafana/schema/package.json"));
const schemaVersion = JSON.parse(fs.readFileSync(path.join(schemaPackageDir, "package.json"))).version;
const SCHEMA = `@grafana/schema ${schemaVersion}`;

function generate(declarations, type) {
  return createGenerator({
    path: path.join(schemaPackageDir, "dist/types", declarations),
    type,
    // The declarations are the package's published output; type-checking them again only costs time.
    skipTypeCheck: true,
    // Closed objects: a misspelt or invented property is an error, as it would be in CUE.
    additionalProperties: false,
    topRef: true,
  }).createSchema(type);
}

// The raw Dashboard (and its Panel, RowPanel, VariableModel...) is the direct CUE translation; the
// veneer DataQuery is the type Grafana's frontend gives a panel's targets.
const dashboardSchema = generate("raw/dashboard/x/types.gen.d.ts", "Dashboard");
const dataQuerySchema = generate("veneer/common.types.d.ts", "DataQuery");

function definition(schema, name) {
  const def = schema.definitions?.[name];
  if (!def?.properties) {
    console.error(`validate.mjs: ${SCHEMA} has no ${name} object type any more; update the relaxations below`);
    process.exit(1);
  }
  return def;
}

// Relaxations, each for something Grafana itself writes and reads but the generated schema rejects:
// - `definition` on a variable: the text form of a query variable's query, written by Grafana's
//   query-variable editor and kept in its QueryVariableModel; the CUE kind does not list it.
// - `current: {}`: Grafana's own "export for sharing externally" writes exactly that for query and
//   datasource variables (the value is chosen at load), while VariableOption requires text and value.
// - extra properties on a target: DataQuery is the base every data source extends (Prometheus adds
//   expr, legendFormat, instant...), and @grafana/schema ships no Prometheus query type.
const variableModel = definition(dashboardSchema, "VariableModel");
variableModel.properties.definition ??= { type: "string" };
variableModel.properties.current = {
  anyOf: [{ $ref: "#/definitions/VariableOption" }, { type: "object", maxProperties: 0 }],
};
definition(dataQuerySchema, "DataQuery").additionalProperties = true;
definition(dashboardSchema, "Panel");
definition(dashboardSchema, "RowPanel");

const ajv = new Ajv({ allErrors: true, strict: true });
ajv.addSchema(dashboardSchema, "dashboard");
const validateDashboard = ajv.getSchema("dashboard");
const validatePanel = ajv.getSchema("dashboard#/definitions/Panel");
const validateRowPanel = ajv.getSchema("dashboard#/definitions/RowPanel");
const validateDataQuery = ajv.compile(dataQuerySchema);

function schemaProblems(validate, value, prefix, typeName) {
  if (validate(value)) return [];
  return validate.errors.map((e) => {
    let where = prefix + e.instancePath;
    if (e.keyword === "required") where += "/" + e.params.missingProperty;
    if (e.keyword === "additionalProperties") where += "/" + e.params.additionalProperty;
    const allowed = e.keyword === "enum" ? ` (${e.params.allowedValues.join(", ")})` : "";
    return `${where || "/"}: ${e.message}${allowed} [${SCHEMA} ${typeName}: ${e.schemaPath}]`;
  });
}

function isObject(v) {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// Every panel with its JSON path, row panels' nested panels included.
function panelsOf(dashboard) {
  const out = [];
  if (!Array.isArray(dashboard.panels)) return out;
  dashboard.panels.forEach((p, i) => {
    out.push([`/panels/${i}`, p]);
    if (isObject(p) && p.type === "row" && Array.isArray(p.panels)) {
      p.panels.forEach((q, j) => out.push([`/panels/${i}/panels/${j}`, q]));
    }
  });
  return out;
}

function datasourceProblem(where, ref) {
  if (!isObject(ref)) return `${where}: is ${JSON.stringify(ref)}, not a reference {"uid": "${DATASOURCE_UID}"} [project rule: datasource is the variable]`;
  if (ref.uid !== DATASOURCE_UID) return `${where}/uid: is ${JSON.stringify(ref.uid)}, not "${DATASOURCE_UID}" [project rule: datasource is the variable, no hard-coded UIDs]`;
  return null;
}

function check(file) {
  let dashboard;
  try {
    dashboard = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    return [`/: not readable JSON: ${e.message}`];
  }
  const problems = [];

  // A panel that fails is reported against Panel or RowPanel alone: the dashboard schema's
  // anyOf(Panel, RowPanel) would report every property against both and say little.
  const panelErrors = new Set();
  for (const p of schemaProblems(validateDashboard, dashboard, "", "Dashboard")) {
    const m = p.match(/^\/panels\/(\d+)[/:]/);
    if (m) panelErrors.add(Number(m[1]));
    else problems.push(p);
  }
  for (const i of [...panelErrors].sort((a, b) => a - b)) {
    const panel = dashboard.panels[i];
    const own = isObject(panel) && panel.type === "row"
      ? schemaProblems(validateRowPanel, panel, `/panels/${i}`, "RowPanel")
      : schemaProblems(validatePanel, panel, `/panels/${i}`, "Panel");
    problems.push(...(own.length ? own : [`/panels/${i}: matches neither Panel nor RowPanel [${SCHEMA} Dashboard]`]));
  }
  if (!isObject(dashboard)) return problems;

  const variables = Array.isArray(dashboard.templating?.list) ? dashboard.templating.list : [];
  if (!variables.some((v) => isObject(v) && v.name === "datasource" && v.type === "datasource")) {
    problems.push(`/templating/list: no variable named "datasource" of type "datasource" [project rule: datasource is the variable]`);
  }

  const ids = new Map();
  for (const [where, panel] of panelsOf(dashboard)) {
    if (!isObject(panel)) continue;
    // The docs list panels by title and query_dashboards.py names them by it; Grafana's schema
    // leaves it optional.
    if (typeof panel.title !== "string" || panel.title.trim() === "") {
      problems.push(`${where}/title: missing or empty [project rule: every panel has a title]`);
    }
    if (ids.has(panel.id)) {
      problems.push(`${where}/id: ${panel.id} already used by ${ids.get(panel.id)} [project rule: ids unique within a dashboard, as ${SCHEMA} documents Panel.id]`);
    } else if (panel.id !== undefined) {
      ids.set(panel.id, where);
    }
    if (panel.type === "row") continue;
    // Missing here; a wrong value anywhere is caught by the walk below.
    if (panel.datasource === undefined) {
      problems.push(`${where}/datasource: missing [project rule: datasource is the variable]`);
    }
    (Array.isArray(panel.targets) ? panel.targets : []).forEach((target, t) => {
      problems.push(...schemaProblems(validateDataQuery, target, `${where}/targets/${t}`, "DataQuery"));
      if (isObject(target) && target.datasource === undefined) {
        problems.push(`${where}/targets/${t}/datasource: missing [project rule: datasource is the variable]`);
      }
    });
  }

  // Panels, targets, variables, annotations, links: any datasource named at all is the variable.
  (function walk(value, where) {
    if (Array.isArray(value)) return value.forEach((v, i) => walk(v, `${where}/${i}`));
    if (!isObject(value)) return;
    for (const [key, v] of Object.entries(value)) {
      const at = `${where}/${key}`;
      if (key === "datasource") {
        const p = datasourceProblem(at, v);
        if (p) problems.push(p);
      }
      walk(v, at);
    }
  })(dashboard, "");
  return problems;
}

let failed = 0;
for (const file of args) {
  const problems = check(file);
  for (const p of problems) console.error(`${file}: ${p}`);
  if (problems.length) failed++;
  else console.log(`${file}: valid (${SCHEMA} Dashboard, Panel, DataQuery; datasource is the variable)`);
}
process.exit(failed ? 1 : 0);
