#!/usr/bin/env node
// The kustomize resolver of lib/kustomize (lib/load.mjs) against the real thing: for every
// kustomization under config/deploy, and for each install set's components, kubectl kustomize must
// produce exactly the objects the resolver produced (same ids, same content). This is what makes
// the deploy test's picture of `kubectl apply -k` trustworthy.
//
// usage: node kustomize_build_test.mjs [--modules DIR] KUBECTL SOURCE_ROOT
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { isDeepStrictEqual } from "node:util";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Problems, Resolver, objectId, objectName, parseYamlDocuments, relative } from "./lib/load.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let modulesDir = HERE;
if (args[0] === "--modules") modulesDir = path.resolve(args.splice(0, 2)[1]);
if (args.length !== 2) {
  console.error("usage: node kustomize_build_test.mjs [--modules DIR] KUBECTL SOURCE_ROOT");
  process.exit(2);
}
const [kubectl, rootArg] = args;
const root = path.resolve(rootArg);
const YAML = createRequire(path.join(modulesDir, "package.json"))("yaml");

const version = spawnSync(kubectl, ["version", "--client"], { encoding: "utf8" });
console.log(`${kubectl}: ${(version.stdout || version.stderr).trim().replace(/\n/g, "; ")}`);

function kustomize(dir) {
  const run = spawnSync(kubectl, ["kustomize", dir], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`kubectl kustomize ${relative(root, dir)}: ${run.stderr.trim()}`);
  return parseYamlDocuments(YAML, run.stdout, "kubectl kustomize", new Problems()).map(({ obj }) => obj);
}

function ours(build) {
  const problems = new Problems();
  const resolver = new Resolver({ YAML, root, problems, validateKustomization: () => true });
  const items = build(resolver);
  if (problems.length) throw new Error(problems.list.map((p) => `${p.where}: ${p.field}: ${p.text}`).join("; "));
  return items.map(({ obj }) => obj);
}

function compare(a, b) {
  const index = (list) => new Map(list.map((o) => [objectId(o), o]));
  const x = index(a);
  const y = index(b);
  const out = [];
  for (const [id, o] of x) {
    if (!y.has(id)) out.push(`${objectName(o)} only from the resolver`);
    else if (!isDeepStrictEqual(o, y.get(id))) out.push(`${objectName(o)} differs`);
  }
  for (const [id, o] of y) if (!x.has(id)) out.push(`${objectName(o)} only from kubectl kustomize`);
  return out;
}

let passed = 0, failed = 0;
const verdict = (ok, what, why = "") => { ok ? passed++ : failed++; console.log(`${ok ? "ok  " : "FAIL"} ${what}${why ? `: ${why}` : ""}`); };

function walk(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name === "kustomization.yaml") out.push(dir);
  }
  return out;
}

for (const dir of walk(path.join(root, "config", "deploy")).sort()) {
  const k = YAML.parse(fs.readFileSync(path.join(dir, "kustomization.yaml"), "utf8"));
  if (k?.kind === "Component") continue;
  const what = `kubectl kustomize ${relative(root, dir)}`;
  try {
    const diff = compare(ours((r) => r.build(dir)), kustomize(dir));
    verdict(!diff.length, `${what} gives the resolver's objects`, diff.join("; "));
  } catch (e) {
    verdict(false, what, e.message);
  }
}

// Components, through a throw-away overlay (kustomize takes relative paths only).
const sets = YAML.parse(fs.readFileSync(path.join(HERE, "install-sets.yaml"), "utf8")).sets;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kustomize-overlay-"));
try {
  for (const set of sets.filter((s) => s.components?.length)) {
    const what = `an overlay of ${set.kustomize.join(", ")} with components ${set.components.join(", ")} (set ${set.name})`;
    const overlay = path.join(tmp, set.name.replace(/[^a-z0-9-]/gi, "_"));
    fs.mkdirSync(overlay);
    fs.writeFileSync(path.join(overlay, "kustomization.yaml"), YAML.stringify({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      resources: set.kustomize.map((d) => path.relative(overlay, path.join(root, d))),
      components: set.components.map((d) => path.relative(overlay, path.join(root, d))),
    }));
    try {
      const mine = ours((r) => {
        const items = set.kustomize.flatMap((d) => r.build(path.join(root, d)));
        for (const d of set.components) r.applyComponent(path.join(root, d), items, (item) => items.push(item));
        return items;
      });
      const diff = compare(mine, kustomize(overlay));
      verdict(!diff.length, `${what} gives the resolver's objects`, diff.join("; "));
    } catch (e) {
      verdict(false, what, e.message);
    }
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
