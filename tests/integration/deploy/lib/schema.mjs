// Schema validation of one object, by apiVersion and kind:
// - built-in kinds: the validate() of the kubernetes-models package (the Kubernetes OpenAPI
//   schemas of its version, with types, formats, enums and required fields) plus a closed-object
//   check for unknown fields, from a JSON Schema that ts-json-schema-generator derives at run time
//   from the same package's TypeScript declarations (the OpenAPI schemas leave objects open; the
//   API server with kubectl's default strict field validation refuses unknown fields);
// - monitoring.coreos.com/v1: the same two from @kubernetes-models/prometheus-operator;
// - KubeSchedulerConfiguration, NodeFeatureRule, Kustomization/Component: the JSON Schemas in
//   ../schemas/ (no package ships them; each says where it comes from).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SCHEMA_DIR = path.join(HERE, "..", "schemas");

// The pinned package and the Kubernetes version its schemas come from (its changelog: 4.5.0
// "Update schema version to v1.33.0"; 4.5.1 changed only dependencies). The kube-scheduler image
// must be of the same minor version (lib/checks.mjs).
export const KUBERNETES_MODELS_VERSION = "4.5.1";
export const SCHEMA_KUBERNETES_MINOR = "1.33";
export const PROMETHEUS_OPERATOR_MODELS_VERSION = "4.4.4"; // CRDs of prometheus-operator v0.65.1

export const CLUSTER_SCOPED = new Set([
  "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "PriorityClass",
  "StorageClass", "CustomResourceDefinition", "NodeFeatureRule",
]);

function modulePath(apiVersion, kind) {
  if (apiVersion === "v1") return `kubernetes-models/v1/${kind}`;
  if (apiVersion === "monitoring.coreos.com/v1") return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`;
  if (typeof apiVersion === "string" && /^[a-z0-9.]+\/v[0-9a-z]+$/.test(apiVersion)) return `kubernetes-models/${apiVersion}/${kind}`;
  return null;
}

const OWN_SCHEMAS = {
  "kubescheduler.config.k8s.io/v1|KubeSchedulerConfiguration": "kubescheduler.config.k8s.io-v1.json",
  "nfd.k8s-sigs.io/v1alpha1|NodeFeatureRule": "nfd.k8s-sigs.io-v1alpha1-NodeFeatureRule.json",
};

// "/spec/template/spec/containers/0/ports/0" -> "spec.template.spec.containers[0].ports[0]"
export function dotted(pointer) {
  if (!pointer) return "";
  return pointer.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : /^[A-Za-z0-9_-]+$/.test(part) ? (acc ? `${acc}.${part}` : part) : `${acc}[${JSON.stringify(part)}]`), "");
}

function ajvProblems(errors, prefix = "") {
  return (errors ?? []).map((e) => {
    let field = e.instancePath;
    let text = e.message;
    if (e.keyword === "additionalProperties") {
      field += "/" + e.params.additionalProperty.replace(/~/g, "~0").replace(/\//g, "~1");
      text = "unknown field";
    } else if (e.keyword === "required") {
      field += "/" + e.params.missingProperty;
      text = "required field missing";
    } else if (e.keyword === "enum") {
      text += ` (${e.params.allowedValues.map((v) => JSON.stringify(v)).join(", ")})`;
    } else if (e.keyword === "const") {
      text += ` (${JSON.stringify(e.params.allowedValue)})`;
    }
    return { field: [prefix, dotted(field)].filter(Boolean).join("."), text };
  });
}

export class Schemas {
  constructor(modulesDir) {
    this.require = createRequire(path.join(modulesDir, "package.json"));
    this.modulesDir = modulesDir;
    const Ajv = this.require("ajv");
    this.ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
    this.own = {};
    for (const [key, file] of Object.entries(OWN_SCHEMAS)) {
      this.own[key] = this.ajv.compile(JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, file), "utf8")));
    }
    this.kustomization = this.ajv.compile(JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, "kustomize.config.k8s.io.json"), "utf8")));
    this.versions = {};
    for (const [name, want] of [["kubernetes-models", KUBERNETES_MODELS_VERSION], ["@kubernetes-models/prometheus-operator", PROMETHEUS_OPERATOR_MODELS_VERSION]]) {
      const got = JSON.parse(fs.readFileSync(this.require.resolve(`${name}/package.json`), "utf8")).version;
      this.versions[name] = got;
      if (got !== want) {
        throw new Error(`${name} is ${got}, lib/schema.mjs is written for ${want}: update its version constants (and SCHEMA_KUBERNETES_MINOR) with the lock file`);
      }
    }
    this.models = new Map(); // "apiVersion|kind" -> model class or null
    this.closed = null; // ajv validators by "apiVersion|kind"
  }

  describeSources() {
    return `kubernetes-models ${this.versions["kubernetes-models"]} (Kubernetes v${SCHEMA_KUBERNETES_MINOR}), ` +
      `@kubernetes-models/prometheus-operator ${this.versions["@kubernetes-models/prometheus-operator"]}, schemas/*.json`;
  }

  model(apiVersion, kind) {
    const key = `${apiVersion}|${kind}`;
    if (!this.models.has(key)) {
      let cls = null;
      const mod = modulePath(apiVersion, kind);
      if (mod && /^[A-Z][A-Za-z0-9]*$/.test(kind)) {
        try {
          cls = this.require(mod)[kind] ?? null;
        } catch {
          cls = null;
        }
      }
      this.models.set(key, cls);
    }
    return this.models.get(key);
  }

  // One generated JSON Schema for every model kind in `keys`, closed (additionalProperties false).
  prepareClosed(keys) {
    const wanted = [...new Set(keys)].filter((k) => { const [v, kind] = k.split("|"); return this.model(v, kind); });
    const lines = [];
    const fields = [];
    wanted.forEach((key, i) => {
      const [apiVersion, kind] = key.split("|");
      lines.push(`import type { I${kind} as T${i} } from ${JSON.stringify(modulePath(apiVersion, kind))};`);
      fields.push(`  K${i}: T${i};`);
    });
    lines.push(`export interface AllKinds {\n${fields.join("\n")}\n}`);
    // The entry file must sit beside node_modules for the imports to resolve.
    const entry = path.join(this.modulesDir, `.closed-schemas-${process.pid}-${Date.now()}.ts`);
    fs.writeFileSync(entry, lines.join("\n") + "\n");
    try {
      const { createGenerator } = this.require("ts-json-schema-generator");
      const schema = createGenerator({
        path: entry,
        type: "AllKinds",
        skipTypeCheck: true,
        additionalProperties: false,
        topRef: true,
        expose: "all",
        jsDoc: "none",
      }).createSchema("AllKinds");
      const Ajv = this.require("ajv");
      // Not strict: the generated schema is the tool's, and only its additionalProperties errors
      // are used (the package's validate() reports types, enums and required fields).
      const ajv = new Ajv({ allErrors: true, strict: false });
      ajv.addSchema(schema, "all");
      this.closed = new Map();
      wanted.forEach((key, i) => this.closed.set(key, ajv.compile({ $ref: `all#/definitions/AllKinds/properties/K${i}` })));
    } finally {
      fs.rmSync(entry, { force: true });
    }
  }

  // [{field, text}] for one object; `rule` names the schema used, for the messages.
  check(obj) {
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) return { rule: "manifest", problems: [{ field: "", text: "is not an object" }] };
    const key = `${obj.apiVersion}|${obj.kind}`;
    if (this.own[key]) {
      const validate = this.own[key];
      const problems = validate(obj) ? [] : ajvProblems(validate.errors);
      if (obj.metadata !== undefined) problems.push(...this.checkMetadata(obj.metadata));
      return { rule: `schemas/${OWN_SCHEMAS[key]}`, problems };
    }
    const cls = this.model(obj.apiVersion, obj.kind);
    if (!cls) {
      return { rule: "manifest", problems: [{ field: "apiVersion", text: `no schema for ${obj.apiVersion} ${obj.kind} (lib/schema.mjs knows the kinds of kubernetes-models and prometheus-operator, KubeSchedulerConfiguration and NodeFeatureRule)` }] };
    }
    const problems = [];
    try {
      new cls(obj).validate();
    } catch (e) {
      if (!Array.isArray(e.errors)) throw e;
      problems.push(...ajvProblems(e.errors));
    }
    const closed = this.closed?.get(key);
    if (closed && !closed(obj)) {
      problems.push(...ajvProblems(closed.errors.filter((e) => e.keyword === "additionalProperties")));
    }
    const pkg = obj.apiVersion === "monitoring.coreos.com/v1" ? "@kubernetes-models/prometheus-operator" : "kubernetes-models";
    return { rule: `${pkg} ${this.versions[pkg]}`, problems: dedupe(problems) };
  }

  checkMetadata(metadata) {
    const cls = this.require("@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta").ObjectMeta;
    try {
      new cls(metadata).validate();
      return [];
    } catch (e) {
      if (!Array.isArray(e.errors)) throw e;
      return ajvProblems(e.errors, "metadata");
    }
  }

  checkKustomization(k) {
    return this.kustomization(k) ? [] : ajvProblems(this.kustomization.errors);
  }
}

function dedupe(problems) {
  const seen = new Set();
  return problems.filter((p) => {
    const key = `${p.field}\u0000${p.text}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

