// The rules beyond the schemas: some of kube-apiserver's and kube-scheduler's own validation that
// an OpenAPI schema cannot express, and this project's cross-references (service accounts,
// ConfigMaps, ports, selectors, scheduler names, RBAC, the extender's and the plugin's addresses).
// Each problem names the file, the object and the field.
import { CLUSTER_SCOPED, SCHEMA_KUBERNETES_MINOR } from "./schema.mjs";
import { objectName, parseYamlDocuments, Problems } from "./load.mjs";

// ---------------------------------------------------------------------------------------------
// Syntax rules of k8s.io/apimachinery/pkg/util/validation.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
// resource.Quantity: a decimal number and an optional suffix (binary, decimal or an exponent).
const QUANTITY = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;
const SUFFIX = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60, n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const RBAC_KINDS = new Set(["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]);
export const PREEXISTING_NAMESPACES = new Set(["default", "kube-system", "kube-public", "kube-node-lease"]);

function dns1123Label(v) { return typeof v === "string" && v.length <= 63 && DNS1123_LABEL.test(v); }
function dns1123Subdomain(v) { return typeof v === "string" && v.length <= 253 && DNS1123_SUBDOMAIN.test(v); }

function qualifiedName(key) {
  if (typeof key !== "string") return false;
  const parts = key.split("/");
  if (parts.length > 2) return false;
  const name = parts.at(-1);
  if (parts.length === 2 && !dns1123Subdomain(parts[0])) return false;
  return name.length <= 63 && QUALIFIED_NAME.test(name);
}

// IANA_SVC_NAME: at most 15 characters, lower-case letters, digits and '-', at least one letter,
// no '--', not starting or ending with '-'.
function ianaSvcName(v) {
  return typeof v === "string" && v.length >= 1 && v.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(v) && /[a-z]/.test(v) && !v.includes("--");
}

function quantityValue(q) {
  const s = String(q);
  if (!QUANTITY.test(s)) return null;
  const m = s.match(/^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(.*)$/);
  const [, num, suffix] = m;
  if (/^[eE]/.test(suffix)) return Number(num) * 10 ** Number(suffix.slice(1));
  return Number(num) * SUFFIX[suffix];
}

// An extended resource: a domain-prefixed name outside kubernetes.io (v1helper.IsExtendedResourceName).
export function isExtendedResourceName(name) {
  if (typeof name !== "string" || !name.includes("/")) return false;
  const prefix = name.split("/")[0];
  if (prefix === "kubernetes.io" || prefix.endsWith(".kubernetes.io") || prefix.startsWith("requests.")) return false;
  return qualifiedName(name);
}

// ---------------------------------------------------------------------------------------------
// Pods and containers.

const IMAGE_ROLES = ["epc-extender", "epc-device-plugin", "kube-scheduler"];

export function imageBase(image) {
  const noDigest = String(image ?? "").split("@")[0];
  const last = noDigest.split("/").at(-1);
  return last.split(":")[0];
}

export function imageTag(image) {
  const noDigest = String(image ?? "").split("@")[0];
  const last = noDigest.split("/").at(-1);
  return last.includes(":") ? last.split(":").at(-1) : "";
}

export function role(container) {
  const base = imageBase(container?.image);
  return IMAGE_ROLES.includes(base) ? base : null;
}

// --name=value and --name value (the next word not starting with "--"), from command then args.
export function flagsOf(container) {
  const argv = [...(container?.command ?? []), ...(container?.args ?? [])].map(String);
  const out = new Map();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) continue;
    const eq = a.indexOf("=");
    if (eq > 0) {
      out.set(a.slice(2, eq), { value: a.slice(eq + 1), index: i });
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
      out.set(a.slice(2), { value: argv[i + 1], index: i });
      i++;
    } else {
      out.set(a.slice(2), { value: "true", index: i });
    }
  }
  return out;
}

const DEFAULTS = {
  "epc-extender": {
    "http-address": "127.0.0.1", "http-port": "8888", "url-prefix": "/sgx", "grpc-address": "127.0.0.1:9090", "in-cluster": "false", kubeconfig: "",
    "http-insecure": "false", "grpc-insecure": "false", "grpc-auth": "none", "grpc-token-audience": "epc-extender", "grpc-token-service-accounts": "sgx-system/epc-device-plugin",
  },
  "epc-device-plugin": { extender: "", "extender-every-address": "false", "healthz-address": "", "extender-insecure": "false" },
  "kube-scheduler": { "secure-port": "10259", "bind-address": "0.0.0.0", config: "" },
};

export function flag(container, name) {
  const f = flagsOf(container).get(name);
  if (f) return f.value;
  return DEFAULTS[role(container)]?.[name];
}

function hostPort(value) {
  const m = String(value ?? "").match(/^(.*):(\d+)$/);
  return m ? { host: m[1].replace(/^\[(.*)\]$/, "$1"), port: Number(m[2]) } : null;
}

function anyAddress(host) { return host === "0.0.0.0" || host === "::" || host === ""; }
function loopback(host) { return host === "127.0.0.1" || host === "localhost" || host === "::1"; }

// [{spec, labels, namespace, field, replicas}] of an object's pod templates.
export function podTemplates(obj) {
  const ns = obj?.metadata?.namespace;
  switch (obj?.kind) {
    case "Pod":
      return obj.spec ? [{ spec: obj.spec, labels: obj.metadata?.labels ?? {}, namespace: ns, field: "spec", replicas: 1 }] : [];
    case "Deployment":
    case "StatefulSet":
    case "ReplicaSet":
      return obj.spec?.template?.spec ? [{ spec: obj.spec.template.spec, labels: obj.spec.template.metadata?.labels ?? {}, namespace: ns, field: "spec.template.spec", replicas: obj.spec.replicas ?? 1 }] : [];
    case "DaemonSet":
    case "Job":
      return obj.spec?.template?.spec ? [{ spec: obj.spec.template.spec, labels: obj.spec.template.metadata?.labels ?? {}, namespace: ns, field: "spec.template.spec", replicas: null }] : [];
    default:
      return [];
  }
}

function containersOf(spec) {
  return [
    ...(spec?.initContainers ?? []).map((c, i) => ({ c, field: `initContainers[${i}]` })),
    ...(spec?.containers ?? []).map((c, i) => ({ c, field: `containers[${i}]` })),
  ];
}

function selectorMatches(selector, labels) {
  if (!selector || typeof selector !== "object") return false;
  const ml = selector.matchLabels ?? {};
  const exprs = selector.matchExpressions ?? [];
  if (!Object.keys(ml).length && !exprs.length) return true;
  for (const [k, v] of Object.entries(ml)) if (labels?.[k] !== v) return false;
  for (const e of exprs) {
    const has = labels && Object.prototype.hasOwnProperty.call(labels, e.key);
    const val = labels?.[e.key];
    if (e.operator === "In" && !(has && (e.values ?? []).includes(val))) return false;
    if (e.operator === "NotIn" && has && (e.values ?? []).includes(val)) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

// Service-style selector: a plain label map.
function mapMatches(selector, labels) {
  if (!selector || !Object.keys(selector).length) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

// A named or numbered port of one container: its number, or null when the container has no such
// port declared.
function containerPortNumber(container, ref) {
  for (const p of container?.ports ?? []) {
    if (typeof ref === "string" && p.name === ref) return p.containerPort;
    if (typeof ref === "number" && p.containerPort === ref) return p.containerPort;
  }
  return null;
}

// A port of any container of a pod: [{container, number}].
function podPorts(spec, ref) {
  const out = [];
  for (const { c } of containersOf(spec)) {
    const n = containerPortNumber(c, ref);
    if (n !== null) out.push({ container: c, number: n });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Per-object rules (each object once, wherever it is used).

export function objectChecks(item, add) {
  const { obj } = item;
  const at = (field, text) => add(item, field, text);
  const md = obj.metadata ?? {};
  const kind = obj.kind;
  if (typeof kind !== "string") return;

  if (kind === "KubeSchedulerConfiguration") return kubeSchedulerConfigChecks(obj, at);
  if (kind === "Kustomization" || kind === "Component") return;

  // Names, as the API server validates them.
  if (RBAC_KINDS.has(kind)) {
    if (typeof md.name !== "string" || !md.name || md.name === "." || md.name === ".." || /[/%]/.test(md.name)) at("metadata.name", `${JSON.stringify(md.name)} is not a valid ${kind} name (no "/" or "%", not "." or "..")`);
  } else if (["Namespace", "Service"].includes(kind)) {
    if (!dns1123Label(md.name)) at("metadata.name", `${JSON.stringify(md.name)} is not a DNS-1123 label (lower-case alphanumerics and '-', at most 63)`);
  } else if (!dns1123Subdomain(md.name)) {
    at("metadata.name", `${JSON.stringify(md.name)} is not a DNS-1123 subdomain (lower-case alphanumerics, '-' and '.', at most 253)`);
  }
  const templateLabels = kind === "Pod" ? [] : podTemplates(obj).map((t) => [t.field.replace(/\.spec$/, ".metadata.labels"), t.labels]);
  for (const [field, labels] of [["metadata.labels", md.labels], ...templateLabels]) {
    for (const [k, v] of Object.entries(labels ?? {})) {
      if (!qualifiedName(k)) at(`${field}[${JSON.stringify(k)}]`, "is not a valid label key");
      if (typeof v !== "string" || v.length > 63 || !LABEL_VALUE.test(v)) at(`${field}[${JSON.stringify(k)}]`, `${JSON.stringify(v)} is not a valid label value (a string of at most 63: alphanumerics, '-', '_', '.')`);
    }
  }

  // Namespaces: named explicitly on every namespaced object, so that kubectl apply -f puts each
  // where kubectl apply -k does (the kustomizations set no namespace); none on cluster-scoped ones.
  if (CLUSTER_SCOPED.has(kind)) {
    if (md.namespace !== undefined) at("metadata.namespace", `${kind} is cluster-scoped: no namespace`);
  } else if (item.static) {
    if (md.namespace !== "kube-system") at("metadata.namespace", "a static pod of the control plane lives in kube-system");
  } else if (typeof md.namespace !== "string" || !md.namespace) {
    at("metadata.namespace", "missing: every namespaced object here names its namespace (kubectl apply -f would put it in the current one)");
  } else if (!dns1123Label(md.namespace)) {
    at("metadata.namespace", `${JSON.stringify(md.namespace)} is not a DNS-1123 label`);
  }

  // Workloads: the selector must match the template's labels (kube-apiserver refuses them otherwise).
  if (["Deployment", "DaemonSet", "StatefulSet", "ReplicaSet"].includes(kind)) {
    const t = podTemplates(obj)[0];
    if (t && !selectorMatches(obj.spec?.selector, t.labels)) at("spec.selector", "does not match spec.template.metadata.labels");
  }
  for (const t of podTemplates(obj)) podSpecChecks(item, t, at);
  if (kind === "NodeFeatureRule") nodeFeatureRuleChecks(obj, at);
}

function podSpecChecks(item, t, at) {
  const { spec } = t;
  const names = new Map();
  const portNames = new Map();
  const volumes = new Map();
  (spec.volumes ?? []).forEach((v, i) => {
    if (volumes.has(v.name)) at(`${t.field}.volumes[${i}].name`, `${v.name} is already the name of volumes[${volumes.get(v.name)}]`);
    volumes.set(v.name, i);
    if (!dns1123Label(v.name)) at(`${t.field}.volumes[${i}].name`, `${JSON.stringify(v.name)} is not a DNS-1123 label`);
  });
  if (item.static) {
    if (spec.serviceAccountName) at(`${t.field}.serviceAccountName`, "a static pod cannot use a service account");
    (spec.volumes ?? []).forEach((v, i) => {
      if (v.configMap || v.secret || v.projected || v.persistentVolumeClaim) at(`${t.field}.volumes[${i}]`, "a static pod cannot refer to API objects (ConfigMap, Secret, PVC): use a hostPath");
    });
  }
  for (const { c, field: cf } of containersOf(spec)) {
    const field = `${t.field}.${cf}`;
    if (!dns1123Label(c.name)) at(`${field}.name`, `${JSON.stringify(c.name)} is not a DNS-1123 label`);
    if (names.has(c.name)) at(`${field}.name`, `${c.name} is already the name of ${names.get(c.name)}`);
    names.set(c.name, cf);
    (c.ports ?? []).forEach((p, j) => {
      if (p.name === undefined) return;
      if (!ianaSvcName(p.name)) at(`${field}.ports[${j}].name`, `${JSON.stringify(p.name)} is not an IANA service name (at most 15: lower-case letters, digits, '-')`);
      if (portNames.has(p.name)) at(`${field}.ports[${j}].name`, `${p.name} is already a port of ${portNames.get(p.name)} (port names are unique in a pod)`);
      portNames.set(p.name, c.name);
    });
    const mountPaths = new Set();
    (c.volumeMounts ?? []).forEach((m, j) => {
      if (!volumes.has(m.name)) at(`${field}.volumeMounts[${j}].name`, `no volume named ${m.name} in ${t.field}.volumes`);
      if (mountPaths.has(m.mountPath)) at(`${field}.volumeMounts[${j}].mountPath`, `${m.mountPath} is mounted twice`);
      mountPaths.add(m.mountPath);
      if (m.recursiveReadOnly !== undefined && m.recursiveReadOnly !== "Disabled" && m.readOnly !== true) at(`${field}.volumeMounts[${j}].recursiveReadOnly`, "needs readOnly: true");
    });
    for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
      const p = c[probe];
      if (!p) continue;
      const handlers = ["exec", "httpGet", "tcpSocket", "grpc"].filter((h) => p[h] !== undefined);
      if (handlers.length !== 1) at(`${field}.${probe}`, `must have exactly one handler (has ${handlers.join(", ") || "none"})`);
    }
    resourceChecks(c, `${field}.resources`, at);
    // Images this project builds: there is no registry named "localhost" to pull from.
    if (String(c.image ?? "").startsWith("localhost/") && !["IfNotPresent", "Never"].includes(c.imagePullPolicy)) {
      at(`${field}.imagePullPolicy`, `${c.image} is loaded into the node's runtime (docs/install.md), not pulled: IfNotPresent or Never, not ${c.imagePullPolicy ?? "the default"}`);
    }
    if (role(c) === "kube-scheduler") {
      const tag = imageTag(c.image);
      const minor = tag.match(/^v(\d+\.\d+)\.\d+$/)?.[1];
      if (!minor) at(`${field}.image`, `pin a release tag vX.Y.Z (${c.image})`);
      else if (minor !== SCHEMA_KUBERNETES_MINOR) at(`${field}.image`, `kube-scheduler ${tag} is not of the Kubernetes version the manifests are validated against (v${SCHEMA_KUBERNETES_MINOR}, kubernetes-models): change both together`);
    }
  }
}

function resourceChecks(c, field, at) {
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  for (const [which, list] of [["requests", req], ["limits", lim]]) {
    for (const [name, q] of Object.entries(list)) {
      const v = quantityValue(q);
      if (v === null) {
        at(`${field}.${which}[${JSON.stringify(name)}]`, `${JSON.stringify(q)} is not a quantity`);
        continue;
      }
      if (isExtendedResourceName(name) && !Number.isInteger(v)) at(`${field}.${which}[${JSON.stringify(name)}]`, `${q}: an extended resource takes whole numbers`);
    }
  }
  for (const name of Object.keys(req)) {
    if (!(name in lim)) continue;
    const r = quantityValue(req[name]);
    const l = quantityValue(lim[name]);
    if (r === null || l === null) continue;
    if (isExtendedResourceName(name) && r !== l) at(`${field}.requests[${JSON.stringify(name)}]`, `${req[name]} differs from the limit ${lim[name]}: extended resources cannot be overcommitted`);
    else if (r > l) at(`${field}.requests[${JSON.stringify(name)}]`, `${req[name]} exceeds the limit ${lim[name]}`);
  }
}

// The value rules of kube-scheduler's ValidateKubeSchedulerConfiguration that concern the fields
// used here, with its defaults applied.
function parseDuration(s) {
  if (s === undefined) return undefined;
  const units = { ns: 1e-9, us: 1e-6, "\u00b5s": 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  for (const m of String(s).matchAll(/([0-9.]+)(ns|us|\u00b5s|ms|s|m|h)/g)) total += Number(m[1]) * units[m[2]];
  return total;
}

function kubeSchedulerConfigChecks(cfg, at) {
  const profiles = cfg.profiles?.length ? cfg.profiles : [{ schedulerName: "default-scheduler" }];
  const seen = new Map();
  profiles.forEach((p, i) => {
    const name = p.schedulerName ?? "default-scheduler";
    if (!name) at(`profiles[${i}].schedulerName`, "empty");
    if (seen.has(name)) at(`profiles[${i}].schedulerName`, `${name} is already profiles[${seen.get(name)}]'s`);
    seen.set(name, i);
  });
  const binders = [];
  (cfg.extenders ?? []).forEach((e, i) => {
    if (e.bindVerb) binders.push(i);
    if (e.prioritizeVerb && !(e.weight > 0)) at(`extenders[${i}].weight`, "must be positive when prioritizeVerb is set");
    const names = new Set();
    (e.managedResources ?? []).forEach((r, j) => {
      if (!isExtendedResourceName(r.name)) at(`extenders[${i}].managedResources[${j}].name`, `${JSON.stringify(r.name)} is not an extended resource name`);
      if (names.has(r.name)) at(`extenders[${i}].managedResources[${j}].name`, `${r.name} is listed twice`);
      names.add(r.name);
    });
    try {
      const u = new URL(e.urlPrefix);
      if (!["http:", "https:"].includes(u.protocol)) at(`extenders[${i}].urlPrefix`, "must be an http(s) URL");
      if ((u.protocol === "https:") !== (e.enableHTTPS === true)) at(`extenders[${i}].urlPrefix`, `${u.protocol} with enableHTTPS ${e.enableHTTPS === true}`);
    } catch {
      at(`extenders[${i}].urlPrefix`, `${JSON.stringify(e.urlPrefix)} is not a URL`);
    }
  });
  if (binders.length > 1) at(`extenders[${binders[1]}].bindVerb`, `only one extender may bind (extenders[${binders[0]}] does)`);
  const le = cfg.leaderElection ?? {};
  if (le.leaderElect !== false) {
    const lease = parseDuration(le.leaseDuration ?? "15s");
    const renew = parseDuration(le.renewDeadline ?? "10s");
    const retry = parseDuration(le.retryPeriod ?? "2s");
    if (!(lease > renew)) at("leaderElection.leaseDuration", "must be greater than renewDeadline");
    if (!(renew > retry)) at("leaderElection.renewDeadline", "must be greater than retryPeriod");
    if (le.resourceLock !== undefined && le.resourceLock !== "leases") at("leaderElection.resourceLock", "kube-scheduler v1.33 elects on leases only");
  }
  if (cfg.percentageOfNodesToScore !== undefined && (cfg.percentageOfNodesToScore < 0 || cfg.percentageOfNodesToScore > 100)) at("percentageOfNodesToScore", "must be 0..100");
}

function nodeFeatureRuleChecks(obj, at) {
  const counts = { In: "1+", NotIn: "1+", InRegexp: "1+", Exists: 0, DoesNotExist: 0, IsTrue: 0, IsFalse: 0, Gt: 1, Lt: 1, GtLt: 2 };
  const expr = (e, field) => {
    const want = counts[e?.op];
    const n = (e?.value ?? []).length;
    if (want === undefined) return;
    if (want === "1+" ? n < 1 : n !== want) at(`${field}.value`, `${e.op} takes ${want === "1+" ? "one or more values" : want === 0 ? "no value" : `exactly ${want}`} (has ${n})`);
  };
  const matcher = (terms, field) => (terms ?? []).forEach((t, i) => {
    for (const [k, e] of Object.entries(t.matchExpressions ?? {})) expr(e, `${field}[${i}].matchExpressions[${JSON.stringify(k)}]`);
    if (t.matchName) expr(t.matchName, `${field}[${i}].matchName`);
  });
  (obj.spec?.rules ?? []).forEach((r, i) => {
    const f = `spec.rules[${i}]`;
    matcher(r.matchFeatures, `${f}.matchFeatures`);
    (r.matchAny ?? []).forEach((m, j) => matcher(m.matchFeatures, `${f}.matchAny[${j}].matchFeatures`));
    if (!(r.matchFeatures?.length || r.matchAny?.length)) at(f, "has no matchFeatures or matchAny: it would match every node");
    for (const [k, v] of Object.entries(r.labels ?? {})) {
      if (!qualifiedName(k)) at(`${f}.labels[${JSON.stringify(k)}]`, "is not a valid label key");
      if (!LABEL_VALUE.test(v) || v.length > 63) at(`${f}.labels[${JSON.stringify(k)}]`, `${JSON.stringify(v)} is not a valid label value`);
    }
    for (const [k, v] of Object.entries(r.extendedResources ?? {})) {
      if (!isExtendedResourceName(k)) at(`${f}.extendedResources[${JSON.stringify(k)}]`, "is not an extended resource name");
      if (!/^@[A-Za-z0-9_.-]+\.[A-Za-z0-9_.-]+$/.test(v) && quantityValue(v) === null) at(`${f}.extendedResources[${JSON.stringify(k)}]`, `${JSON.stringify(v)} is neither a quantity nor a reference @feature.element`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// RBAC: what a service account may do, from the roles of a set and the built-in roles bound here.
// Built-in rules are upstream's bootstrap policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy),
// cut to the rules these checks ask about.

const BUILTIN_CLUSTER_ROLES = {
  "system:kube-scheduler": [
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], resourceNames: ["kube-scheduler"], verbs: ["get", "update"] },
    { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
    { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "delete"] },
    { apiGroups: [""], resources: ["bindings", "pods/binding"], verbs: ["create"] },
    // "Needed to check API access": its secure port's delegated authentication.
    { apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"] },
  ],
  "system:volume-scheduler": [],
};
const BUILTIN_ROLES = {
  "kube-system/extension-apiserver-authentication-reader": [
    { apiGroups: [""], resources: ["configmaps"], resourceNames: ["extension-apiserver-authentication"], verbs: ["get", "list", "watch"] },
  ],
};

function ruleGrants(rule, { group, resource, verb, name }) {
  const has = (list, v) => (list ?? []).includes(v) || (list ?? []).includes("*");
  if (!has(rule.apiGroups, group) || !has(rule.resources, resource) || !has(rule.verbs, verb)) return false;
  if (rule.resourceNames?.length) return name !== undefined && rule.resourceNames.includes(name);
  return true;
}

class Rbac {
  constructor(items) {
    this.roles = new Map();
    this.clusterRoles = new Map();
    this.bindings = [];
    for (const { obj } of items) {
      if (obj.apiVersion !== "rbac.authorization.k8s.io/v1") continue;
      if (obj.kind === "Role") this.roles.set(`${obj.metadata?.namespace}/${obj.metadata?.name}`, obj.rules ?? []);
      if (obj.kind === "ClusterRole") this.clusterRoles.set(obj.metadata?.name, obj.rules ?? []);
      if (obj.kind === "RoleBinding" || obj.kind === "ClusterRoleBinding") this.bindings.push(obj);
    }
  }
  roleRules(ref, bindingNs) {
    if (ref?.kind === "ClusterRole") return this.clusterRoles.get(ref.name) ?? BUILTIN_CLUSTER_ROLES[ref.name] ?? null;
    if (ref?.kind === "Role") return this.roles.get(`${bindingNs}/${ref.name}`) ?? BUILTIN_ROLES[`${bindingNs}/${ref.name}`] ?? null;
    return null;
  }
  // May ServiceAccount ns/sa do verb on group/resource (name) in namespace `ns` ("" = cluster-wide)?
  can(saNs, sa, request) {
    for (const b of this.bindings) {
      const subject = (b.subjects ?? []).some((s) => s.kind === "ServiceAccount" && s.name === sa && s.namespace === saNs);
      if (!subject) continue;
      if (b.kind === "RoleBinding" && (request.namespace === "" || b.metadata?.namespace !== request.namespace)) continue;
      const rules = this.roleRules(b.roleRef, b.metadata?.namespace);
      if ((rules ?? []).some((r) => ruleGrants(r, request))) return true;
    }
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Cross-references within one install set.
//
// set: {name, items: [{obj, file, index, static?}], hostFiles: {hostPath: repoFile}, namespaces}
// ctx: {YAML, root, readRepoFile(rel) -> text|null, bindingModeExtenders}

export function setChecks(set, ctx, add) {
  const items = set.items;
  const rbac = new Rbac(items);
  const byKind = (kind) => items.filter(({ obj }) => obj.kind === kind);
  const find = (kind, ns, name) => items.find(({ obj }) => obj.kind === kind && obj.metadata?.name === name && (ns === null || obj.metadata?.namespace === ns));
  const pods = [];
  for (const item of items) for (const t of podTemplates(item.obj)) pods.push({ item, t });
  const knownNamespaces = new Set([...PREEXISTING_NAMESPACES, ...(set.namespaces ?? []), ...byKind("Namespace").map(({ obj }) => obj.metadata?.name)]);
  // The keys of a ConfigMap or Secret of this set, or of one a documented script creates
  // (install-sets.yaml: created): {keys, where}, or null.
  const findData = (kind, ns, name) => {
    const own = find(kind, ns, name);
    if (own) return { keys: new Set([...Object.keys(own.obj.data ?? {}), ...Object.keys(own.obj.binaryData ?? {}), ...Object.keys(own.obj.stringData ?? {})]), where: own.file };
    const made = (set.created ?? []).find((o) => o.kind === kind && o.namespace === ns && o.name === name);
    return made ? { keys: new Set(made.keys ?? []), where: `made by ${made.by}` } : null;
  };
  const refs = { findData };

  for (const item of items) {
    const ns = item.obj.metadata?.namespace;
    if (ns && !CLUSTER_SCOPED.has(item.obj.kind) && !knownNamespaces.has(ns)) {
      add(item, "metadata.namespace", `namespace ${ns} is neither created by this set nor one that exists in every cluster`);
    }
  }

  // The KubeSchedulerConfigurations this set's kube-scheduler containers load, by pod.
  const schedulerConfigs = []; // {pod, container, field, cfg, where}
  for (const { item, t } of pods) {
    for (const { c, field: cf } of containersOf(t.spec)) {
      if (role(c) !== "kube-scheduler") continue;
      const field = `${t.field}.${cf}`;
      const cfgPath = flag(c, "config");
      if (!cfgPath) {
        add(item, `${field}.command`, "kube-scheduler without --config: it would run without the extender");
        continue;
      }
      const loaded = loadMountedFile(item, t, c, field, cfgPath, set, ctx, add, find);
      if (!loaded) continue;
      const docs = parseYamlDocuments(ctx.YAML, loaded.text, loaded.where, new Problems());
      const cfg = docs[0]?.obj;
      if (docs.length !== 1 || cfg?.kind !== "KubeSchedulerConfiguration") {
        add(item, `${field}.command`, `--config=${cfgPath} (${loaded.where}) is not one KubeSchedulerConfiguration`);
        continue;
      }
      schedulerConfigs.push({ item, t, c, field, cfg, where: loaded.where, fromConfigMap: loaded.fromConfigMap });
    }
  }
  const profiles = new Map(); // schedulerName -> {cfg, where}
  for (const sc of schedulerConfigs) {
    for (const p of sc.cfg.profiles?.length ? sc.cfg.profiles : [{}]) profiles.set(p.schedulerName ?? "default-scheduler", sc);
  }

  for (const sc of schedulerConfigs) schedulerPodChecks(sc, set, ctx, rbac, refs, add);

  for (const { item, t } of pods) {
    const spec = t.spec;
    // Service accounts.
    if (!item.static) {
      const sa = spec.serviceAccountName ?? "default";
      if (sa !== "default" && !find("ServiceAccount", t.namespace, sa)) add(item, `${t.field}.serviceAccountName`, `ServiceAccount ${t.namespace}/${sa} is not created by this set`);
    }
    // ConfigMaps and Secrets mounted, directly or projected.
    (spec.volumes ?? []).forEach((v, i) => {
      const sources = [];
      if (v.configMap) sources.push({ kind: "ConfigMap", ref: v.configMap, name: v.configMap.name, at: `${t.field}.volumes[${i}].configMap` });
      if (v.secret) sources.push({ kind: "Secret", ref: v.secret, name: v.secret.secretName, at: `${t.field}.volumes[${i}].secret` });
      (v.projected?.sources ?? []).forEach((src, k) => {
        if (src.configMap) sources.push({ kind: "ConfigMap", ref: src.configMap, name: src.configMap.name, at: `${t.field}.volumes[${i}].projected.sources[${k}].configMap` });
        if (src.secret) sources.push({ kind: "Secret", ref: src.secret, name: src.secret.name, at: `${t.field}.volumes[${i}].projected.sources[${k}].secret` });
      });
      for (const { kind, ref, name, at } of sources) {
        const data = findData(kind, t.namespace, name);
        if (!data) {
          if (!ref.optional) add(item, `${at}.${kind === "Secret" && !v.projected ? "secretName" : "name"}`, `${kind} ${t.namespace}/${name} is not created by this set${kind === "Secret" ? " nor by a documented script (install-sets.yaml: created)" : ""}`);
          continue;
        }
        (ref.items ?? []).forEach((it, j) => {
          if (!data.keys.has(it.key)) add(item, `${at}.items[${j}].key`, `${kind} ${t.namespace}/${name} (${data.where}) has no key ${it.key}`);
        });
      }
    });
    for (const { c, field: cf } of containersOf(spec)) {
      const field = `${t.field}.${cf}`;
      probeChecks(item, t, c, field, add);
      for (const [j, e] of (c.env ?? []).entries()) {
        const ref = e.valueFrom?.configMapKeyRef;
        if (!ref) continue;
        const cm = find("ConfigMap", t.namespace, ref.name);
        if (!cm && !ref.optional) add(item, `${field}.env[${j}].valueFrom.configMapKeyRef`, `ConfigMap ${t.namespace}/${ref.name} is not created by this set`);
        else if (cm && !(ref.key in (cm.obj.data ?? {})) && !ref.optional) add(item, `${field}.env[${j}].valueFrom.configMapKeyRef.key`, `ConfigMap ${t.namespace}/${ref.name} has no key ${ref.key}`);
      }
      if (role(c) === "epc-extender") extenderContainerChecks(item, t, c, field, rbac, schedulerConfigs, refs, add);
      if (role(c) === "epc-device-plugin") pluginContainerChecks(item, t, c, field, items, pods, refs, add);
    }
    // Scheduler names: a pod goes to the scheduler it names, and an SGX pod must reach one with
    // epc-extender (or it is placed without EPC accounting, or not at all).
    const schedulerName = spec.schedulerName ?? "default-scheduler";
    const sc = profiles.get(schedulerName);
    if (schedulerName !== "default-scheduler" && !sc) {
      add(item, `${t.field}.schedulerName`, `${schedulerName} is no profile's schedulerName in this set's KubeSchedulerConfigurations (${[...profiles.keys()].join(", ") || "none"})`);
    }
    const sgx = sgxResources(spec);
    if (sgx.length) {
      if (!sc) {
        if (schedulerName === "default-scheduler") add(item, `${t.field}.schedulerName`, `unset: the pod asks for ${sgx.join(", ")} but goes to the cluster's own default-scheduler, which has no epc-extender in this install (use a profile of this set: ${[...profiles.keys()].join(", ") || "none"})`);
      } else {
        const managed = new Set((sc.cfg.extenders ?? []).flatMap((e) => (e.managedResources ?? []).map((r) => r.name)));
        const missing = sgx.filter((r) => !managed.has(r));
        if (missing.length) add(item, `${t.field}.schedulerName`, `${schedulerName}'s extenders (${sc.where}) do not manage ${missing.join(", ")}`);
      }
    }
  }

  // Services: selectors and ports.
  for (const item of byKind("Service")) {
    const svc = item.obj;
    if (svc.spec?.type === "ExternalName") continue;
    const matched = pods.filter(({ t }) => t.namespace === svc.metadata?.namespace && mapMatches(svc.spec?.selector, t.labels));
    if (!matched.length) {
      add(item, "spec.selector", `selects no pod of this set (${JSON.stringify(svc.spec?.selector ?? {})})`);
      continue;
    }
    (svc.spec?.ports ?? []).forEach((p, i) => {
      const target = p.targetPort ?? p.port;
      for (const { item: owner, t } of matched) {
        const found = podPorts(t.spec, target);
        if (!found.length) add(item, `spec.ports[${i}].targetPort`, `${target} is no container port of ${objectName(owner.obj)} (${owner.file}), which the selector matches`);
        else if (svc.spec?.clusterIP === "None" && found.some((f) => f.number !== p.port)) {
          add(item, `spec.ports[${i}].port`, `${p.port}: a headless Service maps no ports, clients connect to the pod's ${found[0].number} (targetPort ${target} of ${objectName(owner.obj)})`);
        }
      }
    });
  }

  // RBAC: subjects and role references.
  for (const item of items) {
    const b = item.obj;
    if (b.apiVersion !== "rbac.authorization.k8s.io/v1" || !["RoleBinding", "ClusterRoleBinding"].includes(b.kind)) continue;
    (b.subjects ?? []).forEach((s, i) => {
      if (s.kind !== "ServiceAccount") return;
      if (!s.namespace) add(item, `subjects[${i}].namespace`, "a ServiceAccount subject must name its namespace");
      else if (!find("ServiceAccount", s.namespace, s.name)) add(item, `subjects[${i}]`, `ServiceAccount ${s.namespace}/${s.name} is not created by this set`);
    });
    const ref = b.roleRef ?? {};
    if (b.kind === "ClusterRoleBinding" && ref.kind !== "ClusterRole") add(item, "roleRef.kind", "a ClusterRoleBinding refers to a ClusterRole");
    else if (rbac.roleRules(ref, b.metadata?.namespace) === null) add(item, "roleRef", `${ref.kind} ${ref.kind === "Role" ? `${b.metadata?.namespace}/` : ""}${ref.name} is neither in this set nor a built-in role these checks know`);
  }

  // prometheus-operator monitors.
  for (const item of byKind("ServiceMonitor")) {
    const m = item.obj;
    const nss = m.spec?.namespaceSelector?.matchNames ?? [m.metadata?.namespace];
    const svcs = byKind("Service").filter(({ obj }) => nss.includes(obj.metadata?.namespace) && selectorMatches(m.spec?.selector, obj.metadata?.labels ?? {}));
    if (!svcs.length) add(item, "spec.selector", "matches no Service's labels in this set");
    (m.spec?.endpoints ?? []).forEach((e, i) => {
      for (const { obj } of svcs) {
        const port = (obj.spec?.ports ?? []).find((p) => p.name === e.port);
        if (e.port && !port) {
          add(item, `spec.endpoints[${i}].port`, `${e.port} is no port name of ${objectName(obj)}`);
          continue;
        }
        // The scheme of the extenders behind the port, and the CA Prometheus verifies them with.
        const behind = pods.filter(({ t }) => t.namespace === obj.metadata?.namespace && mapMatches(obj.spec?.selector, t.labels));
        const https = behind.some(({ t }) => containersOf(t.spec).some(({ c }) => role(c) === "epc-extender" && httpsExtender(c) && containerPortNumber(c, port?.targetPort ?? port?.port) !== null));
        if (https && e.scheme !== "https") add(item, `spec.endpoints[${i}].scheme`, `${e.scheme ?? "http (the default)"}, but the extenders behind ${objectName(obj)} serve HTTPS: scheme: https with tlsConfig.ca`);
        if (https && e.tlsConfig?.insecureSkipVerify === true) add(item, `spec.endpoints[${i}].tlsConfig.insecureSkipVerify`, "true: Prometheus would not verify the extenders' certificates (give tlsConfig.ca)");
        for (const kind of ["configMap", "secret"]) {
          const ref = e.tlsConfig?.ca?.[kind];
          if (!ref) continue;
          const K = kind === "secret" ? "Secret" : "ConfigMap";
          const data = findData(K, m.metadata?.namespace, ref.name);
          if (!data) add(item, `spec.endpoints[${i}].tlsConfig.ca.${kind}.name`, `${K} ${m.metadata?.namespace}/${ref.name} is not created by this set`);
          else if (!data.keys.has(ref.key)) add(item, `spec.endpoints[${i}].tlsConfig.ca.${kind}.key`, `${K} ${m.metadata?.namespace}/${ref.name} (${data.where}) has no key ${ref.key}`);
        }
      }
    });
  }
  for (const item of byKind("PodMonitor")) {
    const m = item.obj;
    const nss = m.spec?.namespaceSelector?.matchNames ?? [m.metadata?.namespace];
    const matched = pods.filter(({ t }) => nss.includes(t.namespace) && selectorMatches(m.spec?.selector, t.labels));
    if (!matched.length) add(item, "spec.selector", "matches no pod of this set");
    (m.spec?.podMetricsEndpoints ?? []).forEach((e, i) => {
      for (const { item: owner, t } of matched) if (e.port && !podPorts(t.spec, e.port).length) add(item, `spec.podMetricsEndpoints[${i}].port`, `${e.port} is no container port name of ${objectName(owner.obj)}`);
    });
  }
  for (const item of byKind("NetworkPolicy")) {
    const np = item.obj;
    const matched = pods.filter(({ t }) => t.namespace === np.metadata?.namespace && selectorMatches(np.spec?.podSelector, t.labels));
    if (!matched.length) add(item, "spec.podSelector", "selects no pod of this set");
    (np.spec?.ingress ?? []).forEach((rule, i) => (rule.ports ?? []).forEach((p, j) => {
      for (const { item: owner, t } of matched) if (p.port !== undefined && !podPorts(t.spec, p.port).length) add(item, `spec.ingress[${i}].ports[${j}].port`, `${p.port} is no container port of ${objectName(owner.obj)}`);
    }));
  }
  for (const item of byKind("PodDisruptionBudget")) {
    const pdb = item.obj;
    const matched = pods.filter(({ t }) => t.namespace === pdb.metadata?.namespace && selectorMatches(pdb.spec?.selector, t.labels));
    if (!matched.length) add(item, "spec.selector", "selects no pod of this set");
    for (const { item: owner, t } of matched) {
      if (typeof pdb.spec?.minAvailable === "number" && t.replicas !== null && pdb.spec.minAvailable >= t.replicas) {
        add(item, "spec.minAvailable", `${pdb.spec.minAvailable} with ${t.replicas} replicas of ${objectName(owner.obj)}: no voluntary eviction could ever proceed (node drains would hang)`);
      }
    }
  }
}

function sgxResources(spec) {
  const names = new Set();
  for (const { c } of containersOf(spec)) {
    for (const list of [c.resources?.requests, c.resources?.limits]) {
      for (const n of Object.keys(list ?? {})) if (n.startsWith("sgx.intel.com/")) names.add(n);
    }
  }
  return [...names].sort();
}

// The file at `path` in container c, through its volume mounts: {text, where, fromConfigMap}.
function loadMountedFile(item, t, c, field, filePath, set, ctx, add, find) {
  const mounts = (c.volumeMounts ?? []).filter((m) => filePath === m.mountPath || filePath.startsWith(m.mountPath.replace(/\/$/, "") + "/"));
  mounts.sort((a, b) => b.mountPath.length - a.mountPath.length);
  const m = mounts[0];
  if (!m) {
    add(item, `${field}.command`, `${filePath} is on no volume mounted into ${c.name}`);
    return null;
  }
  const rest = filePath === m.mountPath ? "" : filePath.slice(m.mountPath.replace(/\/$/, "").length + 1);
  const v = (t.spec.volumes ?? []).find((x) => x.name === m.name);
  if (!v) return null; // reported by podSpecChecks
  if (v.configMap) {
    const cm = find("ConfigMap", t.namespace, v.configMap.name);
    if (!cm) return null; // reported with the volumes
    let key = rest;
    if (m.subPath) key = m.subPath;
    if (v.configMap.items) key = v.configMap.items.find((it) => it.path === (m.subPath ?? rest))?.key;
    const text = cm.obj.data?.[key];
    if (key === undefined || text === undefined) {
      add(item, `${field}.command`, `${filePath}: ConfigMap ${t.namespace}/${v.configMap.name} (${cm.file}) provides no such file`);
      return null;
    }
    return { text, where: `${cm.file}: ConfigMap ${cm.obj.metadata?.namespace}/${cm.obj.metadata?.name}: data[${JSON.stringify(key)}]`, fromConfigMap: true };
  }
  if (v.hostPath) {
    const hostFile = [v.hostPath.path.replace(/\/$/, ""), m.subPath ?? rest].filter(Boolean).join("/");
    const repoFile = set.hostFiles?.[hostFile];
    if (!repoFile) {
      add(item, `${field}.command`, `${filePath} is the node's ${hostFile}, which install-sets.yaml does not map to a file of this repository (hostFiles)`);
      return null;
    }
    const text = ctx.readRepoFile(repoFile);
    if (text === null) {
      add(item, `${field}.command`, `${hostFile} is installed from ${repoFile}, which does not exist`);
      return null;
    }
    return { text, where: repoFile, fromConfigMap: false };
  }
  add(item, `${field}.command`, `${filePath} is on volume ${v.name}, neither a ConfigMap nor a hostPath`);
  return null;
}

// What provides the file at `filePath` in container c: {kind: "Secret" | "ConfigMap", name, key},
// {kind: "ServiceAccountToken", audience}, {kind: "hostPath"} or {kind: "other"}; {missing: text}
// when nothing does (missing: null when podSpecChecks reports it already).
function fileSource(t, c, filePath) {
  const mounts = (c.volumeMounts ?? []).filter((m) => filePath === m.mountPath || filePath.startsWith(m.mountPath.replace(/\/$/, "") + "/"));
  mounts.sort((a, b) => b.mountPath.length - a.mountPath.length);
  const m = mounts[0];
  if (!m) return { missing: `${filePath} is on no volume mounted into ${c.name}` };
  const rest = m.subPath ?? (filePath === m.mountPath ? "" : filePath.slice(m.mountPath.replace(/\/$/, "").length + 1));
  const v = (t.spec.volumes ?? []).find((x) => x.name === m.name);
  if (!v) return { missing: null };
  // A Secret or ConfigMap source: with items only the listed paths exist, without them every key.
  const keyed = (kind, name, items) => {
    if (!items) return { kind, name, key: rest };
    const it = items.find((i) => i.path === rest);
    return it ? { kind, name, key: it.key } : null;
  };
  const none = (what) => ({ missing: `${filePath}: volume ${v.name} (${what}) has no file ${rest || "(the mount is the volume's root)"}` });
  if (v.secret) return keyed("Secret", v.secret.secretName, v.secret.items) ?? none(`Secret ${v.secret.secretName}`);
  if (v.configMap) return keyed("ConfigMap", v.configMap.name, v.configMap.items) ?? none(`ConfigMap ${v.configMap.name}`);
  if (v.projected) {
    for (const src of v.projected.sources ?? []) {
      if (src.serviceAccountToken?.path === rest) return { kind: "ServiceAccountToken", audience: src.serviceAccountToken.audience };
    }
    for (const src of v.projected.sources ?? []) {
      const found = src.secret ? keyed("Secret", src.secret.name, src.secret.items) : src.configMap ? keyed("ConfigMap", src.configMap.name, src.configMap.items) : null;
      if (found && (src.secret?.items || src.configMap?.items)) return found;
    }
    return none("projected");
  }
  if (v.hostPath) return { kind: "hostPath" };
  return { kind: "other" };
}

// A file a flag names must be mounted, and a Secret or ConfigMap key behind it must exist.
function requireFile(item, t, c, field, filePath, what, refs, add) {
  if (!filePath) return null;
  const src = fileSource(t, c, filePath);
  if (src.missing !== undefined) {
    if (src.missing) add(item, `${field}.volumeMounts`, `${what}: ${src.missing}`);
    return null;
  }
  if (src.kind === "Secret" || src.kind === "ConfigMap") {
    const data = refs.findData(src.kind, t.namespace, src.name);
    if (data && !data.keys.has(src.key)) add(item, `${field}.volumeMounts`, `${what}: ${filePath} is key ${src.key} of ${src.kind} ${t.namespace}/${src.name} (${data.where}), which has no such key`);
  }
  return src;
}

const httpsExtender = (c) => Boolean(flag(c, "http-tls-cert-file"));

// kube-scheduler and its extender in one pod: addresses, TLS, RBAC, binding-mode.yaml's stanza.
function schedulerPodChecks(sc, set, ctx, rbac, refs, add) {
  const { item, t, cfg, where } = sc;
  const extenders = containersOf(t.spec).filter(({ c }) => role(c) === "epc-extender");
  (cfg.extenders ?? []).forEach((e, i) => {
    const at = (text) => add(item, `${sc.field}.command`, `--config: ${where}: extenders[${i}].urlPrefix: ${text}`);
    let u;
    try {
      u = new URL(e.urlPrefix);
    } catch {
      return; // reported by the configuration's own checks
    }
    if (!loopback(u.hostname.replace(/^\[(.*)\]$/, "$1"))) {
      at(`${e.urlPrefix}: the extender is a sidecar, reached over the pod's loopback (127.0.0.1)`);
      return;
    }
    const port = Number(u.port || (u.protocol === "https:" ? 443 : 80));
    const match = extenders.filter(({ c }) => Number(flag(c, "http-port")) === port);
    if (!match.length) {
      at(`${e.urlPrefix}: no epc-extender container of this pod listens on port ${port} (--http-port: ${extenders.map(({ c }) => flag(c, "http-port")).join(", ") || "no extender container"})`);
      return;
    }
    for (const { c } of match) {
      const prefix = flag(c, "url-prefix");
      if (u.pathname.replace(/\/$/, "") !== String(prefix).replace(/\/$/, "")) at(`path ${u.pathname} is not the extender's --url-prefix ${prefix}`);
      const addr = flag(c, "http-address");
      if (!loopback(addr) && !anyAddress(addr)) at(`the extender listens on ${addr} only (--http-address), not on loopback`);
      const tls = httpsExtender(c);
      if (tls !== (u.protocol === "https:")) {
        at(tls ? "the extender serves HTTPS (--http-tls-cert-file): https:// with enableHTTPS: true and tlsConfig.caFile" : "https://, but the extender serves plain HTTP (no --http-tls-cert-file)");
        continue;
      }
      if (!tls) continue;
      const tc = e.tlsConfig ?? {};
      if (tc.insecure === true) at("tlsConfig.insecure: true: kube-scheduler would not verify the extender's certificate");
      else if (!tc.caFile && !tc.caData) at("tlsConfig has neither caFile nor caData: kube-scheduler would verify the extender's certificate against the system CAs, which did not sign it");
      else if (tc.caFile) requireFile(item, t, sc.c, sc.field, tc.caFile, `extenders[${i}].tlsConfig.caFile`, refs, add);
      if (flag(c, "http-tls-client-ca-file") && !tc.certFile && !tc.certData) at("the extender asks for a client certificate (--http-tls-client-ca-file) and tlsConfig gives none (certFile, keyFile)");
    }
  });
  // The shipped deployment's stanza is binding-mode.yaml's, field for field but for the connection
  // (HTTPS in the pod, loopback plain text beside a static pod).
  if (sc.fromConfigMap && ctx.bindingModeExtenders) {
    const connectionless = (list) => (list ?? []).map(({ urlPrefix, enableHTTPS, tlsConfig, ...rest }) => ({ ...rest, urlPrefix: String(urlPrefix).replace(/^https:/, "http:") }));
    const diff = firstDifference(connectionless(cfg.extenders), connectionless(ctx.bindingModeExtenders), "extenders");
    if (diff) add(item, `${sc.field}.command`, `--config: ${where}: ${diff} differs from config/kube-scheduler/binding-mode.yaml (keep the deployed stanza the shipped binding mode)`);
  }
  // RBAC of the pod's service account (a static pod runs with kubeconfig credentials instead).
  if (item.static) return;
  const saNs = t.namespace;
  const sa = t.spec.serviceAccountName ?? "default";
  const le = cfg.leaderElection ?? {};
  if (le.leaderElect !== false) {
    const ns = le.resourceNamespace ?? "kube-system";
    const name = le.resourceName ?? "kube-scheduler";
    for (const verb of ["create", "get", "update"]) {
      if (!rbac.can(saNs, sa, { group: "coordination.k8s.io", resource: "leases", verb, name: verb === "create" ? undefined : name, namespace: ns })) {
        add(item, `${t.field}.serviceAccountName`, `ServiceAccount ${saNs}/${sa} may not ${verb} the Lease ${ns}/${name} that ${where} elects its leader on`);
      }
    }
  }
  if (!rbac.can(saNs, sa, { group: "", resource: "configmaps", verb: "get", name: "extension-apiserver-authentication", namespace: "kube-system" })) {
    add(item, `${t.field}.serviceAccountName`, `ServiceAccount ${saNs}/${sa} may not read ConfigMap kube-system/extension-apiserver-authentication (kube-scheduler's delegated authentication)`);
  }
}

function extenderContainerChecks(item, t, c, field, rbac, schedulerConfigs, refs, add) {
  const httpPort = Number(flag(c, "http-port"));
  const grpc = hostPort(flag(c, "grpc-address"));
  if (!grpc) add(item, `${field}.args`, `--grpc-address=${flag(c, "grpc-address")} is not HOST:PORT`);
  // The extender's own refusals (docs/security.md): plain text off loopback only when asked for.
  const httpAddr = flag(c, "http-address");
  if (!loopback(httpAddr) && !httpsExtender(c) && flag(c, "http-insecure") !== "true") {
    add(item, `${field}.args`, `--http-address=${httpAddr} is not loopback and no --http-tls-cert-file is given: epc-extender refuses to start (serve HTTPS, or --http-insecure=true for plain text knowingly)`);
  }
  const auth = flag(c, "grpc-auth");
  if (grpc && !loopback(grpc.host) && (!flag(c, "grpc-tls-cert-file") || auth === "none") && flag(c, "grpc-insecure") !== "true") {
    add(item, `${field}.args`, `--grpc-address=${flag(c, "grpc-address")} is not loopback and the plugins are not authenticated (--grpc-tls-cert-file with --grpc-auth token or mtls): epc-extender refuses to start (or --grpc-insecure=true to take any report knowingly)`);
  }
  for (const f of ["http-tls-cert-file", "http-tls-key-file", "http-tls-client-ca-file", "grpc-tls-cert-file", "grpc-tls-key-file", "grpc-tls-client-ca-file"]) {
    requireFile(item, t, c, field, flag(c, f), `--${f}`, refs, add);
  }
  (c.ports ?? []).forEach((p, j) => {
    if (p.containerPort !== httpPort && p.containerPort !== grpc?.port) add(item, `${field}.ports[${j}].containerPort`, `${p.containerPort}: the extender listens on ${httpPort} (--http-port) and ${grpc?.port} (--grpc-address)`);
  });
  const inCluster = flag(c, "in-cluster") === "true";
  if (!inCluster && !flag(c, "kubeconfig")) add(item, `${field}.args`, "neither --in-cluster=true nor --kubeconfig: no API watch and no bind verb (binding mode needs both)");
  if (inCluster && !item.static) {
    const saNs = t.namespace;
    const sa = t.spec.serviceAccountName ?? "default";
    const binds = schedulerConfigs.some((sc) => sc.t === t && (sc.cfg.extenders ?? []).some((e) => e.bindVerb));
    const needs = [["list", "pods"], ["watch", "pods"], ["list", "nodes"], ["watch", "nodes"], ...(binds ? [["create", "pods/binding"]] : [])];
    for (const [verb, resource] of needs) {
      if (!rbac.can(saNs, sa, { group: "", resource, verb, namespace: "" })) add(item, `${t.field}.serviceAccountName`, `ServiceAccount ${saNs}/${sa} may not ${verb} ${resource} cluster-wide, which epc-extender --in-cluster needs (bind it to the ClusterRole epc-extender of config/deploy/rbac.yaml)`);
    }
    if (auth === "token" && !rbac.can(saNs, sa, { group: "authentication.k8s.io", resource: "tokenreviews", verb: "create", namespace: "" })) {
      add(item, `${t.field}.serviceAccountName`, `ServiceAccount ${saNs}/${sa} may not create tokenreviews, which epc-extender --grpc-auth=token needs to check the plugins' tokens (the ClusterRole epc-extender of config/deploy/rbac.yaml)`);
    }
  }
  if (t.spec.automountServiceAccountToken === false && inCluster) add(item, `${t.field}.automountServiceAccountToken`, "false, but epc-extender --in-cluster reads the service account token");
}

function pluginContainerChecks(item, t, c, field, items, pods, refs, add) {
  const healthz = hostPort(flag(c, "healthz-address"));
  (c.ports ?? []).forEach((p, j) => {
    if (p.containerPort !== healthz?.port) add(item, `${field}.ports[${j}].containerPort`, `${p.containerPort}: the plugin serves /healthz and /metrics on ${healthz ? healthz.port : "no port"} (--healthz-address)`);
  });
  if (!(c.env ?? []).some((e) => e.name === "NODE_NAME" && e.valueFrom?.fieldRef?.fieldPath === "spec.nodeName") && !flag(c, "node-name")) {
    add(item, `${field}.env`, "no NODE_NAME from spec.nodeName (nor --node-name): the plugin would report under the host name, which need not be the node's name");
  }
  const ext = flag(c, "extender");
  if (!ext) return; // beside Intel's stack a plugin may run without reporting
  const hp = hostPort(ext);
  const argAt = (text) => add(item, `${field}.args`, `--extender=${ext}: ${text}`);
  if (!hp) return argAt("not HOST:PORT");
  const tls = Boolean(flag(c, "extender-ca-file"));
  if (!tls && !loopback(hp.host) && flag(c, "extender-insecure") !== "true") argAt("not loopback and no --extender-ca-file: epc-device-plugin refuses to start (report over TLS, or --extender-insecure=true for plain text knowingly)");
  const token = requireFile(item, t, c, field, flag(c, "extender-token-file"), "--extender-token-file", refs, add);
  for (const f of ["extender-ca-file", "extender-client-cert-file", "extender-client-key-file"]) requireFile(item, t, c, field, flag(c, f), `--${f}`, refs, add);
  const labels = hp.host.split(".");
  let svcName = labels[0];
  let svcNs = t.namespace;
  if (labels.length >= 2) svcNs = labels[1];
  const tail = labels.slice(2).join(".");
  if (labels.length > 2 && !["svc", "svc.cluster.local"].includes(tail)) return argAt(`${hp.host} is not a Service name (<service>.<namespace>[.svc[.cluster.local]])`);
  const svc = items.find(({ obj }) => obj.kind === "Service" && obj.metadata?.name === svcName && obj.metadata?.namespace === svcNs);
  if (!svc) return argAt(`Service ${svcNs}/${svcName} is not created by this set`);
  const port = (svc.obj.spec?.ports ?? []).find((p) => p.port === hp.port);
  if (!port) return argAt(`Service ${svcNs}/${svcName} (${svc.file}) has no port ${hp.port}`);
  const everyAddress = flag(c, "extender-every-address") === "true";
  if (everyAddress && svc.obj.spec?.clusterIP !== "None") argAt(`--extender-every-address needs a headless Service (clusterIP: None) so that the name resolves to every replica; ${svcNs}/${svcName} has a virtual IP`);
  if (everyAddress && svc.obj.spec?.publishNotReadyAddresses !== true) argAt(`${svcNs}/${svcName} leaves out replicas that are not Ready: standby schedulers' extenders would get no reports (publishNotReadyAddresses: true)`);
  // The pods behind it must run an extender listening on that port, on their own address.
  const target = port.targetPort ?? port.port;
  const backends = pods.filter(({ t: bt }) => bt.namespace === svcNs && mapMatches(svc.obj.spec?.selector, bt.labels));
  let extenders = 0;
  for (const { t: bt } of backends) {
    for (const { c: bc } of containersOf(bt.spec)) {
      if (role(bc) !== "epc-extender") continue;
      const n = containerPortNumber(bc, target);
      const g = hostPort(flag(bc, "grpc-address"));
      if (n === null || !g || g.port !== n) continue;
      extenders++;
      const behind = `the extender behind ${svcNs}/${svcName}`;
      if (loopback(g.host)) argAt(`${behind} listens for reports on ${g.host} only (--grpc-address): unreachable from the nodes`);
      const serverTls = Boolean(flag(bc, "grpc-tls-cert-file"));
      if (tls !== serverTls) argAt(serverTls ? `${behind} serves TLS (--grpc-tls-cert-file) and the plugin talks plain text: give --extender-ca-file` : `the plugin talks TLS (--extender-ca-file) and ${behind} serves plain text`);
      const auth = flag(bc, "grpc-auth");
      if (auth === "token") {
        const audience = flag(bc, "grpc-token-audience");
        if (!flag(c, "extender-token-file")) argAt(`${behind} wants a ServiceAccount token (--grpc-auth=token) and the plugin sends none (--extender-token-file)`);
        else if (token && token.kind !== "ServiceAccountToken") argAt(`--extender-token-file ${flag(c, "extender-token-file")} is not a projected serviceAccountToken (kubelet would neither bind it to the pod nor renew it)`);
        else if (token && token.audience !== audience) argAt(`the token's audience ${token.audience ?? "(the API server's)"} is not ${behind}'s --grpc-token-audience ${audience}: every stream would be refused`);
        const account = `${t.namespace}/${t.spec.serviceAccountName ?? "default"}`;
        if (!String(flag(bc, "grpc-token-service-accounts")).split(",").includes(account)) argAt(`ServiceAccount ${account} is not in ${behind}'s --grpc-token-service-accounts (${flag(bc, "grpc-token-service-accounts")}): its reports would be refused`);
      }
      if (auth === "mtls" && !flag(c, "extender-client-cert-file")) argAt(`${behind} wants a client certificate (--grpc-auth=mtls) and the plugin has none (--extender-client-cert-file)`);
    }
  }
  if (!extenders) argAt(`no epc-extender behind Service ${svcNs}/${svcName} listens for reports on its port ${hp.port} (target ${target})`);
}

// Probes: the port is one the container declares, and the process listens there, on the address
// kubelet connects to (the pod IP unless httpGet.host says otherwise).
function probeChecks(item, t, c, field, add) {
  const r = role(c);
  for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
    const p = c[probe];
    if (!p) continue;
    const handler = p.httpGet ?? p.tcpSocket ?? p.grpc;
    if (!handler) continue;
    const kindName = p.httpGet ? "httpGet" : p.tcpSocket ? "tcpSocket" : "grpc";
    const pf = `${field}.${probe}.${kindName}.port`;
    const n = containerPortNumber(c, handler.port);
    if (n === null) {
      add(item, pf, `${JSON.stringify(handler.port)} is no port of container ${c.name} (${(c.ports ?? []).map((x) => x.name ? `${x.name}=${x.containerPort}` : x.containerPort).join(", ") || "none declared"})`);
      continue;
    }
    const host = handler.host ?? "";
    const toPodIp = !host || (!loopback(host) && !t.spec.hostNetwork);
    const listen = (addrFlag, portValue, what) => {
      if (Number(portValue) !== n) add(item, pf, `${handler.port} is port ${n}, but ${c.name} serves ${what} on ${portValue}`);
      else if (toPodIp && loopback(addrFlag)) add(item, pf, `kubelet probes the pod IP, but ${c.name} listens on ${addrFlag} only: listen on 0.0.0.0 or probe with host: 127.0.0.1 (hostNetwork pods only)`);
    };
    if (r === "epc-extender") {
      listen(flag(c, "http-address"), flag(c, "http-port"), "HTTP (--http-port)");
      const https = (p.httpGet?.scheme ?? "HTTP") === "HTTPS";
      if (p.httpGet && https !== httpsExtender(c)) add(item, `${field}.${probe}.httpGet.scheme`, https ? "HTTPS, but the extender serves plain HTTP (no --http-tls-cert-file)" : `${p.httpGet.scheme ?? "HTTP (the default)"}, but the extender serves HTTPS (--http-tls-cert-file): the probe would fail`);
    }
    if (r === "epc-device-plugin") {
      const h = hostPort(flag(c, "healthz-address"));
      if (!h) add(item, pf, `${c.name} serves no /healthz (no --healthz-address)`);
      else listen(h.host, h.port, "/healthz (--healthz-address)");
    }
    if (r === "kube-scheduler") listen(flag(c, "bind-address"), flag(c, "secure-port"), "its secure port (--secure-port)");
  }
}

// The first path where two JSON values differ, or null.
export function firstDifference(a, b, at = "") {
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return at || "/";
    if (a.length !== b.length) return `${at} (${a.length} entries, not ${b.length})`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${at}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[k], b[k], at ? `${at}.${k}` : k);
      if (d) return d;
    }
    return null;
  }
  return a === b ? null : `${at} (${JSON.stringify(a)}, not ${JSON.stringify(b)})`;
}

