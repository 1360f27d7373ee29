#!/usr/bin/env node
// The flags the manifests give this project's daemons must be flags the built binaries have: every
// --flag in the command and args of an epc-extender or epc-device-plugin container under
// config/deploy is looked up in that binary's --help, and a true|false flag must get true or false.
// (The daemons exit 2 on an unknown flag: the pod would crash-loop.) Then each container's whole
// command line, with a kustomize patch's replacement applied, goes to its binary with
// --check-config: the binary's own validation (TLS pairs, plain text off loopback, grpc.auth needs)
// must accept it, as it would when the pod starts.
//
// usage: node flags_test.mjs [--modules DIR] SOURCE_ROOT EPC_EXTENDER EPC_DEVICE_PLUGIN
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Problems, objectName, readYamlDocuments, relative } from "./lib/load.mjs";
import { flagsOf, podTemplates, role } from "./lib/checks.mjs";

const args = process.argv.slice(2);
let modulesDir = path.dirname(fileURLToPath(import.meta.url));
if (args[0] === "--modules") modulesDir = path.resolve(args.splice(0, 2)[1]);
if (args.length !== 3) {
  console.error("usage: node flags_test.mjs [--modules DIR] SOURCE_ROOT EPC_EXTENDER EPC_DEVICE_PLUGIN");
  process.exit(2);
}
const [rootArg, extenderBin, pluginBin] = args;
const root = path.resolve(rootArg);
const YAML = createRequire(path.join(modulesDir, "package.json"))("yaml");

// "  --name VALUE   (key)" lines of --help: name -> the value's placeholder ("" for none).
function helpFlags(bin) {
  const run = spawnSync(bin, ["--help"], { encoding: "utf8" });
  if (run.error || run.status !== 0) throw new Error(`${bin} --help: ${run.error?.message ?? `exit ${run.status}: ${run.stderr}`}`);
  const out = new Map();
  for (const m of run.stdout.matchAll(/^ {2}--([a-z0-9-]+)(?: (\S+))?/gm)) out.set(m[1], m[2] ?? "");
  if (!out.size) throw new Error(`${bin} --help lists no flags`);
  return out;
}

const known = { "epc-extender": helpFlags(extenderBin), "epc-device-plugin": helpFlags(pluginBin) };
const bins = { "epc-extender": extenderBin, "epc-device-plugin": pluginBin };

function walk(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (/\.ya?ml$/.test(e.name)) out.push(p);
  }
  return out;
}

let passed = 0, failed = 0;
const verdict = (ok, what) => { ok ? passed++ : failed++; console.log(`${ok ? "ok  " : "FAIL"} ${what}`); };
const problems = new Problems();
for (const file of walk(path.join(root, "config", "deploy")).sort()) {
  for (const { obj } of readYamlDocuments(YAML, root, file, problems)) {
    // The kustomize patches' values are arguments too.
    const candidates = podTemplates(obj).flatMap((t) => (t.spec.containers ?? []).map((c, i) => ({ c, field: `${t.field}.containers[${i}]` })));
    for (const { c, field } of candidates) {
      const r = role(c);
      if (!known[r]) continue;
      for (const [name, { value }] of flagsOf(c)) {
        const placeholder = known[r].get(name);
        const where = `${relative(root, file)}: ${objectName(obj)}: ${field}: --${name}`;
        if (placeholder === undefined) {
          verdict(false, `${where}: not a flag of ${bins[r]} (its --help lists ${[...known[r].keys()].map((k) => `--${k}`).join(", ")})`);
        } else if (placeholder === "true|false" && !["true", "false"].includes(value)) {
          verdict(false, `${where}: takes true or false, not ${JSON.stringify(value)}`);
        } else {
          verdict(true, `${where} is a flag of ${path.basename(bins[r])}`);
        }
      }
    }
    for (const p of obj?.patches ?? []) {
      for (const m of String(p.patch ?? "").matchAll(/value: (--[a-z0-9-]+)/g)) {
        const name = m[1].slice(2);
        const r = p.target?.name === "epc-device-plugin" ? "epc-device-plugin" : null;
        if (!r) continue;
        const where = `${relative(root, file)}: a patch of ${p.target.kind} ${p.target.name}: ${m[1]}`;
        verdict(known[r].has(name), `${where}${known[r].has(name) ? " is a flag of " + path.basename(bins[r]) : ": not a flag of " + bins[r]}`);
      }
    }
  }
}

// The binary's own word on the whole line. NODE_NAME as the DaemonSet's downward API sets it.
function checkConfig(r, argv, where) {
  const run = spawnSync(bins[r], [...argv, "--check-config"], { encoding: "utf8", env: { ...process.env, NODE_NAME: "node-a" } });
  const ok = run.status === 0 && /the configuration is valid/.test(run.stdout);
  verdict(ok, `${where}: ${path.basename(bins[r])} --check-config ${ok ? "accepts the arguments" : `exits ${run.status}: ${(run.stderr || run.stdout).trim().split("\n")[0]}`}`);
}
const containers = new Map(); // "file|kind|name|index" -> argv, for the patches below
for (const file of walk(path.join(root, "config", "deploy")).sort()) {
  for (const { obj } of readYamlDocuments(YAML, root, file, problems)) {
    for (const t of podTemplates(obj)) {
      (t.spec.containers ?? []).forEach((c, i) => {
        const r = role(c);
        if (!known[r]) return;
        // The daemons take their flags from args; a command's first word is the program.
        const argv = [...(c.command ?? []).slice(1), ...(c.args ?? [])].map(String);
        containers.set(`${obj.kind}|${obj.metadata?.name}|${i}`, { r, argv });
        checkConfig(r, argv, `${relative(root, file)}: ${objectName(obj)}: ${t.field}.containers[${i}]`);
      });
    }
  }
}
// JSON-patch replacements of one argument (the default-scheduler variant's --extender).
for (const file of walk(path.join(root, "config", "deploy")).sort()) {
  for (const { obj } of readYamlDocuments(YAML, root, file, problems)) {
    for (const p of obj?.patches ?? []) {
      const ops = YAML.parse(String(p.patch ?? "[]")) ?? [];
      for (const op of Array.isArray(ops) ? ops : []) {
        const m = String(op.path ?? "").match(/^\/spec\/template\/spec\/containers\/(\d+)\/args\/(\d+)$/);
        const target = m && containers.get(`${p.target?.kind}|${p.target?.name}|${m[1]}`);
        if (!target || op.op !== "replace") continue;
        const argv = [...target.argv];
        argv[Number(m[2])] = String(op.value);
        checkConfig(target.r, argv, `${relative(root, file)}: the patch of ${p.target.kind} ${p.target.name} (${op.path} = ${op.value})`);
      }
    }
  }
}
for (const p of problems.list) verdict(false, `${p.where}: ${p.text}`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
