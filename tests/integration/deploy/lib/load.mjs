// Reading manifests as kubectl does, and resolving the kustomize subset this project uses.
//
// YAML: version 1.1, as sigs.k8s.io/yaml (kubectl, kube-scheduler) reads it: an unquoted yes/no/on/off
// is a boolean there, not a string. Duplicate keys are errors.
import fs from "node:fs";
import path from "node:path";

export class Problems {
  constructor() {
    this.list = [];
  }
  // where: {file, obj} or {file} or a string; field: a dotted path; text: what is wrong.
  add(where, field, text) {
    this.list.push({ where: describe(where), field: field || "", text });
  }
  get length() {
    return this.list.length;
  }
}

export function describe(where) {
  if (typeof where === "string") return where;
  const parts = [where.file];
  if (where.obj) parts.push(objectName(where.obj));
  if (where.extra) parts.push(where.extra);
  return parts.join(": ");
}

// "Kind ns/name", "Kind name" (cluster-scoped) or "Kind" (a configuration file with no metadata).
export function objectName(obj) {
  const kind = obj?.kind ?? "(no kind)";
  const name = obj?.metadata?.name;
  const ns = obj?.metadata?.namespace;
  if (name === undefined) return kind;
  return ns ? `${kind} ${ns}/${name}` : `${kind} ${name}`;
}

export function groupOf(apiVersion) {
  const slash = String(apiVersion ?? "").indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

export function versionOf(apiVersion) {
  const s = String(apiVersion ?? "");
  return s.slice(s.indexOf("/") + 1);
}

// kustomize's resource id: group, kind, namespace, name (the version is not part of it).
export function objectId(obj) {
  return [groupOf(obj.apiVersion), obj.kind, obj.metadata?.namespace ?? "", obj.metadata?.name ?? ""].join("|");
}

export function relative(root, file) {
  return path.relative(root, file).split(path.sep).join("/");
}

// Every document of a YAML file: [{obj, index}], null documents (comments only) left out.
export function readYamlDocuments(YAML, root, file, problems) {
  const rel = relative(root, file);
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    problems.add(rel, "", `cannot be read: ${e.message}`);
    return [];
  }
  return parseYamlDocuments(YAML, text, rel, problems);
}

export function parseYamlDocuments(YAML, text, where, problems) {
  const out = [];
  const docs = YAML.parseAllDocuments(text, { version: "1.1", uniqueKeys: true, prettyErrors: true });
  docs.forEach((doc, index) => {
    for (const e of [...doc.errors, ...doc.warnings]) {
      problems.add(where, "", `not valid YAML (document ${index + 1}): ${e.message.split("\n")[0]}`);
    }
    if (doc.errors.length) return;
    const obj = doc.toJS({ maxAliasCount: 0 });
    if (obj === null || obj === undefined) return;
    out.push({ obj, index });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// kustomize: resources (files below the kustomization's directory, directories anywhere),
// components, and inline JSON 6902 patches with a target. The schema in
// schemas/kustomize.config.k8s.io.json refuses every other field, so nothing kustomize would
// do is silently skipped here.

export class Resolver {
  constructor({ YAML, root, problems, validateKustomization }) {
    this.YAML = YAML;
    this.root = root;
    this.problems = problems;
    this.validateKustomization = validateKustomization;
    this.files = new Set(); // every manifest and kustomization file reached
  }

  kustomizationFile(dir) {
    for (const name of ["kustomization.yaml", "kustomization.yml", "Kustomization"]) {
      const file = path.join(dir, name);
      if (fs.existsSync(file)) return file;
    }
    return null;
  }

  // Objects of `dir`'s kustomization: [{obj, file, index}]. expectKind: Kustomization or Component.
  build(dir, expectKind = "Kustomization", stack = []) {
    const abs = path.resolve(dir);
    const relDir = relative(this.root, abs) || ".";
    if (stack.includes(abs)) {
      this.problems.add(relDir, "", `kustomization cycle: ${[...stack, abs].map((d) => relative(this.root, d)).join(" -> ")}`);
      return [];
    }
    const file = this.kustomizationFile(abs);
    if (!file) {
      this.problems.add(relDir, "", "no kustomization.yaml in this directory");
      return [];
    }
    this.files.add(file);
    const rel = relative(this.root, file);
    const docs = readYamlDocuments(this.YAML, this.root, file, this.problems);
    if (docs.length !== 1) {
      if (docs.length) this.problems.add(rel, "", `holds ${docs.length} YAML documents; a kustomization is one`);
      return [];
    }
    const k = docs[0].obj;
    if (!this.validateKustomization(k, rel)) return [];
    if (k.kind !== expectKind) {
      this.problems.add(rel, "kind", `is ${k.kind}; used as ${expectKind === "Component" ? "a component" : "a resource"} it must be ${expectKind}`);
      return [];
    }
    const wantVersion = k.kind === "Component" ? "kustomize.config.k8s.io/v1alpha1" : "kustomize.config.k8s.io/v1beta1";
    if (k.apiVersion !== wantVersion) this.problems.add(rel, "apiVersion", `a ${k.kind} is ${wantVersion}, not ${k.apiVersion}`);

    const out = [];
    const ids = new Map();
    const push = (item, via) => {
      const id = objectId(item.obj);
      if (ids.has(id)) {
        this.problems.add(rel, via, `${objectName(item.obj)} from ${item.file} is already there from ${ids.get(id)} (kustomize: may not add resource with an already registered id)`);
        return;
      }
      ids.set(id, item.file);
      out.push(item);
    };
    (k.resources ?? []).forEach((entry, i) => {
      const field = `resources[${i}]`;
      const target = path.resolve(abs, entry);
      if (!fs.existsSync(target)) {
        this.problems.add(rel, field, `${entry}: no such file or directory`);
        return;
      }
      if (fs.statSync(target).isDirectory()) {
        for (const item of this.build(target, "Kustomization", [...stack, abs])) push(item, field);
        return;
      }
      const up = path.relative(abs, target);
      if (up.startsWith("..") || path.isAbsolute(up)) {
        this.problems.add(rel, field, `${entry}: a file outside ${relDir}/ (kustomize's load restrictor refuses it: "security; file ... is not in or below ..."); name a directory with its own kustomization instead`);
        return;
      }
      this.files.add(target);
      const relFile = relative(this.root, target);
      for (const { obj, index } of readYamlDocuments(this.YAML, this.root, target, this.problems)) {
        push({ obj, file: relFile, index }, field);
      }
    });
    (k.components ?? []).forEach((entry, i) => {
      const target = path.resolve(abs, entry);
      if (!fs.existsSync(target) || !fs.statSync(target).isDirectory()) {
        this.problems.add(rel, `components[${i}]`, `${entry}: not a directory`);
        return;
      }
      this.applyComponent(target, out, push, [...stack, abs]);
    });
    // A component's patches are applied by the kustomization that names it, to everything that
    // kustomization has gathered up to the component (kustomize's order).
    if (expectKind === "Component") this.lastComponent = { k, rel };
    else this.applyPatches(k, rel, out);
    return out;
  }

  // A component's resources join `out`, then its patches apply to all of `out`.
  applyComponent(dir, out, push, stack = []) {
    this.lastComponent = null;
    const items = this.build(dir, "Component", stack);
    const component = this.lastComponent;
    for (const item of items) push(item, relative(this.root, dir));
    if (component) this.applyPatches(component.k, component.rel, out);
  }

  applyPatches(k, rel, objects) {
    (k.patches ?? []).forEach((p, i) => {
      const field = `patches[${i}]`;
      const t = p.target ?? {};
      const matches = objects.filter(({ obj }) =>
        obj.kind === t.kind &&
        obj.metadata?.name === t.name &&
        (t.namespace === undefined || (obj.metadata?.namespace ?? "") === t.namespace) &&
        (t.group === undefined || groupOf(obj.apiVersion) === t.group) &&
        (t.version === undefined || versionOf(obj.apiVersion) === t.version));
      if (!matches.length) {
        this.problems.add(rel, `${field}.target`, `matches no object (${JSON.stringify(t)})`);
        return;
      }
      let ops;
      try {
        ops = this.YAML.parse(p.patch, { version: "1.1", uniqueKeys: true });
      } catch (e) {
        this.problems.add(rel, `${field}.patch`, `not valid YAML: ${e.message.split("\n")[0]}`);
        return;
      }
      if (!Array.isArray(ops)) {
        this.problems.add(rel, `${field}.patch`, "is not a JSON 6902 patch (a list of operations); strategic merge patches are not resolved by this test");
        return;
      }
      for (const m of matches) {
        for (const [j, op] of ops.entries()) {
          const err = applyJsonPatchOp(m.obj, op);
          if (err) this.problems.add(rel, `${field}.patch[${j}]`, `${op?.op} ${op?.path} on ${objectName(m.obj)}: ${err}`);
        }
        m.patchedBy = [...(m.patchedBy ?? []), rel];
      }
    });
  }
}

function decodePointer(pointer) {
  if (typeof pointer !== "string" || !pointer.startsWith("/")) return null;
  return pointer.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

// RFC 6902 add, replace and remove (the operations kustomize's JSON patches here use).
export function applyJsonPatchOp(doc, op) {
  if (!op || typeof op !== "object") return "not an operation object";
  const parts = decodePointer(op.path);
  if (!parts || !parts.length) return "path must be a JSON pointer below the root";
  let parent = doc;
  for (const part of parts.slice(0, -1)) {
    if (parent === null || typeof parent !== "object") return `no ${part} along the path`;
    parent = Array.isArray(parent) ? parent[Number(part)] : parent[part];
    if (parent === undefined) return `no ${part} along the path`;
  }
  const last = parts.at(-1);
  if (parent === null || typeof parent !== "object") return "the parent is not an object or list";
  if (Array.isArray(parent)) {
    const index = last === "-" ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) return `index ${last} out of range`;
    switch (op.op) {
      case "add":
        parent.splice(index, 0, structuredClone(op.value));
        return null;
      case "replace":
        if (index >= parent.length) return `index ${last} out of range`;
        parent[index] = structuredClone(op.value);
        return null;
      case "remove":
        if (index >= parent.length) return `index ${last} out of range`;
        parent.splice(index, 1);
        return null;
      default:
        return `operation ${op.op} is not resolved by this test`;
    }
  }
  switch (op.op) {
    case "add":
      parent[last] = structuredClone(op.value);
      return null;
    case "replace":
      if (!(last in parent)) return `no ${last} to replace`;
      parent[last] = structuredClone(op.value);
      return null;
    case "remove":
      if (!(last in parent)) return `no ${last} to remove`;
      delete parent[last];
      return null;
    default:
      return `operation ${op.op} is not resolved by this test`;
  }
}
