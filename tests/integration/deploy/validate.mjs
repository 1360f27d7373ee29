#!/usr/bin/env node
// Validates the install offline: every manifest under config/deploy (multi-document YAML) and every
// KubeSchedulerConfiguration (config/kube-scheduler/*.yaml, and those inside config/deploy's
// ConfigMaps or installed on nodes by it) against the API schemas of the pinned packages
// (lib/schema.mjs), then the cross-references within each install set of install-sets.yaml
// (lib/checks.mjs), and the kubectl apply -f list of docs/install.md against kubectl apply -k.
//
// usage: node validate.mjs [--modules DIR] [--root DIR]...
//   DIR (modules) holds the node_modules installed from this folder's package-lock.json (default:
//   this folder); each --root is a checkout to validate (default: this repository). Exits 0 when
//   everything passes; 1 with one "FILE: OBJECT: FIELD: what" line per problem otherwise (FILE under
//   its root; [sets: ...] names the install sets a cross-reference failed in); 2 on a usage error.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Problems, Resolver, objectId, objectName, parseYamlDocuments, readYamlDocuments, relative } from "./lib/load.mjs";
import { Schemas } from "./lib/schema.mjs";
import { objectChecks, setChecks } from "./lib/checks.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));

function usage(message) {
  console.error(`validate.mjs: ${message}\nusage: node validate.mjs [--modules DIR] [--root DIR]...`);
  process.exit(2);
}

const args = process.argv.slice(2);
let modulesDir = HERE;
const roots = [];
while (args.length) {
  const a = args.shift();
  if (a === "--modules" && args.length) modulesDir = path.resolve(args.shift());
  else if (a === "--root" && args.length) roots.push(path.resolve(args.shift()));
  else usage(`unknown argument ${a}`);
}
if (!roots.length) roots.push(path.resolve(HERE, "..", "..", ".."));

const require = createRequire(path.join(modulesDir, "package.json"));
const YAML = require("yaml");
const schemas = new Schemas(modulesDir);

function walk(dir, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (/\.ya?ml$/.test(e.name)) out.push(p);
  }
  return out;
}

// Problems of one root, deduplicated, with the install sets each appeared in.
class Report {
  constructor(root) {
    this.root = root;
    this.entries = new Map();
  }
  add(where, field, text, set) {
    const file = typeof where === "string" ? where : where.file + (where.patchedBy?.length ? ` (as patched by ${where.patchedBy.join(", ")})` : "");
    const parts = [path.join(this.root, file)];
    // An object inside another (a KubeSchedulerConfiguration in a ConfigMap) after its container.
    if (typeof where !== "string" && where.extra) parts.push(where.extra);
    if (typeof where !== "string" && where.obj && where.obj.kind !== "Kustomization" && where.obj.kind !== "Component") parts.push(objectName(where.obj));
    if (field) parts.push(field);
    const key = `${parts.join(": ")}: ${text}`;
    if (!this.entries.has(key)) this.entries.set(key, new Set());
    if (set) this.entries.get(key).add(set);
  }
  lines() {
    return [...this.entries].map(([key, sets]) => (sets.size ? `${key} [sets: ${[...sets].join(", ")}]` : key));
  }
}

const installSetsFile = YAML.parse(fs.readFileSync(path.join(HERE, "install-sets.yaml"), "utf8"), { version: "1.1" });
const installSets = installSetsFile.sets;
const created = installSetsFile.created ?? [];

// Load every root first: the closed schemas are generated once for all the kinds seen.
const loaded = roots.map((root) => {
  const problems = new Problems();
  const files = [...walk(path.join(root, "config", "deploy")), ...walk(path.join(root, "config", "kube-scheduler"))];
  const docs = [];
  for (const file of files) {
    for (const { obj, index } of readYamlDocuments(YAML, root, file, problems)) docs.push({ obj, file: relative(root, file), index });
  }
  return { root, problems, files, docs };
});
schemas.prepareClosed(loaded.flatMap(({ docs }) => docs.map(({ obj }) => `${obj?.apiVersion}|${obj?.kind}`)));

let failed = 0;
for (const { root, problems, files, docs } of loaded) {
  const report = new Report(root);
  for (const p of problems.list) report.add(p.where, p.field, p.text);
  const seenObjects = new WeakSet();
  const checkObject = (item, extraWhere) => {
    if (seenObjects.has(item.obj)) return;
    seenObjects.add(item.obj);
    const where = { ...item, extra: extraWhere };
    if (item.obj?.kind === "Kustomization" || item.obj?.kind === "Component") {
      for (const p of schemas.checkKustomization(item.obj)) report.add(where, p.field, `${p.text} [schemas/kustomize.config.k8s.io.json]`);
      return;
    }
    const { rule, problems: ps } = schemas.check(item.obj);
    for (const p of ps) report.add(where, p.field, `${p.text} [${rule}]`);
    objectChecks(item, (it, field, text) => report.add({ ...it, extra: extraWhere }, field, text));
    // KubeSchedulerConfigurations inside ConfigMaps.
    if (item.obj?.kind === "ConfigMap") {
      for (const [key, text] of Object.entries(item.obj.data ?? {})) {
        if (typeof text !== "string" || !/^\s*apiVersion:\s*kubescheduler\.config\.k8s\.io\//m.test(text)) continue;
        const inner = new Problems();
        const innerDocs = parseYamlDocuments(YAML, text, `${item.file}: ${objectName(item.obj)}: data[${JSON.stringify(key)}]`, inner);
        for (const p of inner.list) report.add(p.where, p.field, p.text);
        for (const d of innerDocs) checkObject({ obj: d.obj, file: item.file }, `${objectName(item.obj)}: data[${JSON.stringify(key)}]`);
      }
    }
  };
  for (const item of docs) checkObject(item);

  // Install sets.
  const resolver = new Resolver({
    YAML,
    root,
    problems,
    validateKustomization: (k, rel) => {
      const ps = schemas.checkKustomization(k);
      for (const p of ps) report.add(rel, p.field, `${p.text} [schemas/kustomize.config.k8s.io.json]`);
      return ps.length === 0;
    },
  });
  const covered = new Set();
  const bindingMode = (() => {
    const file = path.join(root, "config", "kube-scheduler", "binding-mode.yaml");
    const d = fs.existsSync(file) ? readYamlDocuments(YAML, root, file, new Problems()) : [];
    return d[0]?.obj?.extenders ?? null;
  })();
  const ctx = {
    YAML,
    root,
    bindingModeExtenders: bindingMode,
    readRepoFile: (rel) => (fs.existsSync(path.join(root, rel)) ? fs.readFileSync(path.join(root, rel), "utf8") : null),
  };
  const builtSets = [];
  for (const def of installSets) {
    const before = problems.length;
    const items = [];
    const ids = new Map();
    const push = (item, via) => {
      const id = objectId(item.obj);
      if (ids.has(id)) {
        report.add(item, "", `also comes from ${ids.get(id)}: the same object twice in one install (${via})`, def.name);
        return;
      }
      ids.set(id, item.file);
      items.push(item);
    };
    for (const dir of def.kustomize ?? []) for (const item of resolver.build(path.join(root, dir))) push(item, `kubectl apply -k ${dir}`);
    for (const dir of def.components ?? []) resolver.applyComponent(path.join(root, dir), items, (item) => push(item, dir));
    for (const rel of [...(def.files ?? []), ...(def.static ?? [])]) {
      const file = path.join(root, rel);
      covered.add(file);
      for (const { obj, index } of readYamlDocuments(YAML, root, file, problems)) {
        push({ obj, file: rel, index, static: (def.static ?? []).includes(rel) }, rel);
      }
    }
    for (const p of problems.list.slice(before)) report.add(p.where, p.field, p.text, def.name);
    for (const item of items) {
      if (item.patchedBy) checkObject(item); // a patch may break what the file had right
    }
    setChecks({ name: def.name, items, hostFiles: def.hostFiles, namespaces: def.namespaces, created }, ctx, (item, field, text) => report.add(item, field, text, def.name));
    builtSets.push({ def, items });
  }
  for (const f of resolver.files) covered.add(f);

  // Every manifest under config/deploy belongs to an install set, and every kustomization is used.
  for (const file of files) {
    const rel = relative(root, file);
    if (!rel.startsWith("config/deploy/")) continue;
    if (!covered.has(file)) report.add(rel, "", "is in no install set of tests/integration/deploy/install-sets.yaml: no kustomization or documented step applies it");
  }

  // docs/install.md: the kubectl apply -f list between the markers applies what kubectl apply -k
  // config/deploy applies, namespace first.
  const install = builtSets.find(({ def }) => def.name === "install");
  const docsFile = path.join(root, "docs", "install.md");
  if (install && fs.existsSync(docsFile)) {
    const text = fs.readFileSync(docsFile, "utf8");
    const m = text.match(/<!-- apply-without-kustomize: begin -->([\s\S]*?)<!-- apply-without-kustomize: end -->/);
    if (!m) {
      report.add("docs/install.md", "", "has no <!-- apply-without-kustomize: begin --> ... end block listing the files of kubectl apply -k config/deploy");
    } else {
      const listed = [...m[1].matchAll(/-f\s+(\S+)/g)].map((x) => x[1]);
      const wanted = [...new Set(install.items.map((it) => it.file))];
      for (const f of wanted) if (!listed.includes(f)) report.add("docs/install.md", "apply-without-kustomize", `misses ${f}, which kubectl apply -k config/deploy applies`);
      for (const f of listed) if (!wanted.includes(f)) report.add("docs/install.md", "apply-without-kustomize", `lists ${f}, which kubectl apply -k config/deploy does not apply`);
      const nsFiles = install.items.filter((it) => it.obj.kind === "Namespace").map((it) => it.file);
      const firstOther = listed.findIndex((f) => !nsFiles.includes(f));
      for (const f of nsFiles) if (listed.includes(f) && firstOther >= 0 && listed.indexOf(f) > firstOther) report.add("docs/install.md", "apply-without-kustomize", `${f} must come first: the other files' objects live in its namespace`);
    }
  }

  const lines = report.lines();
  for (const line of lines) console.error(line);
  if (lines.length) {
    failed++;
  } else {
    const counts = builtSets.map(({ def, items }) => `${def.name} (${items.length})`).join(", ");
    console.log(`${root}: valid: ${files.length} files, ${docs.length} documents; install sets ${counts}; against ${schemas.describeSources()}`);
  }
}
process.exit(failed ? 1 : 0);
