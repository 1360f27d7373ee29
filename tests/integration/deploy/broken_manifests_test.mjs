#!/usr/bin/env node
// The negative case for validate.mjs: copies of this repository's config/, dashboards/ and
// docs/install.md, each broken in one way, must each be reported with the file, the object, the
// field and the reason, while the unbroken copy passes (so a validator that rejects everything fails
// this test too). Also: an edited rule file without a regenerated PrometheusRule fails
// make-prometheusrule --check.
//
// usage: node broken_manifests_test.mjs [--modules DIR] SOURCE_ROOT
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const modules = args[0] === "--modules" ? args.splice(0, 2) : [];
if (args.length !== 1) {
  console.error("usage: node broken_manifests_test.mjs [--modules DIR] SOURCE_ROOT");
  process.exit(2);
}
const source = path.resolve(args[0]);
const COPIED = ["config", "dashboards", "docs/install.md"];

const DP = "config/deploy/device-plugin/daemonset.yaml";
const DEPLOY = "config/deploy/scheduler/deployment.yaml";
const CM = "config/deploy/scheduler/configmap.yaml";
const SVC = "config/deploy/scheduler/services.yaml";
const RBAC = "config/deploy/scheduler/rbac.yaml";
const WORKLOAD = "config/deploy/examples/sgx-workload.yaml";
const NFD = "config/deploy/nfd/sgx-node-feature-rule.yaml";
const MON = "config/deploy/monitoring/kustomization.yaml";
const DS = "DaemonSet sgx-system/epc-device-plugin";
const SCHED = "Deployment sgx-system/sgx-scheduler";
const KSC = 'ConfigMap sgx-system/sgx-scheduler-config: data["config.yaml"]: KubeSchedulerConfiguration';

// name: [file, text to find, its replacement, what the validator must print (after "<copy>/")];
// several edits of one file: [file, [[find, replacement], ...], null, expected]; a new file:
// [file, null, its text, expected].
const cases = {
  "wrong-service-account": [DEPLOY, "serviceAccountName: sgx-scheduler", "serviceAccountName: sgx-schedulr",
    `${DEPLOY}: ${SCHED}: spec.template.spec.serviceAccountName: ServiceAccount sgx-system/sgx-schedulr is not created by this set`],
  "probe-port-not-a-container-port": [DP, "readinessProbe:\n            httpGet:\n              path: /healthz\n              port: metrics", "readinessProbe:\n            httpGet:\n              path: /healthz\n              port: 8082",
    `${DP}: ${DS}: spec.template.spec.containers[0].readinessProbe.httpGet.port: 8082 is no port of container epc-device-plugin`],
  "unknown-field": [DP, "      nodeSelector:", "      nodeSelecter:",
    `${DP}: ${DS}: spec.template.spec.nodeSelecter: unknown field [kubernetes-models 4.5.1]`],
  "bad-scheduler-name": [WORKLOAD, "schedulerName: sgx-scheduler", "schedulerName: sgx-schedular",
    `${WORKLOAD}: Deployment sgx-examples/sgx-demo: spec.template.spec.schedulerName: sgx-schedular is no profile's schedulerName in this set's KubeSchedulerConfigurations (sgx-scheduler)`],
  "unknown-field-in-scheduler-config": [CM, "nodeCacheCapable: true", "nodeCacheCapabel: true",
    `${CM}: ${KSC}: extenders[0].nodeCacheCapabel: unknown field [schemas/kubescheduler.config.k8s.io-v1.json]`],
  "extender-url-wrong-port": [CM, "https://127.0.0.1:8888/sgx", "https://127.0.0.1:8889/sgx",
    `${DEPLOY}: ${SCHED}: spec.template.spec.containers[0].command: --config: ${CM}: ConfigMap sgx-system/sgx-scheduler-config: data["config.yaml"]: extenders[0].urlPrefix: https://127.0.0.1:8889/sgx: no epc-extender container of this pod listens on port 8889`],
  "plugin-reports-to-wrong-namespace": [DP, "--extender=epc-extender-reports.sgx-system.svc", "--extender=epc-extender-reports.kube-system.svc",
    `${DP}: ${DS}: spec.template.spec.containers[0].args: --extender=epc-extender-reports.kube-system.svc.cluster.local:9090: Service kube-system/epc-extender-reports is not created by this set`],
  "reports-service-not-headless": [SVC, "  clusterIP: None\n  publishNotReadyAddresses: true\n", "  publishNotReadyAddresses: true\n",
    `${DP}: ${DS}: spec.template.spec.containers[0].args: --extender=epc-extender-reports.sgx-system.svc.cluster.local:9090: --extender-every-address needs a headless Service`],
  "rbac-subject-missing": [RBAC, "  name: epc-extender\nsubjects:\n  - kind: ServiceAccount\n    name: sgx-scheduler", "  name: epc-extender\nsubjects:\n  - kind: ServiceAccount\n    name: sgx-schedulr",
    `${RBAC}: ClusterRoleBinding sgx-scheduler-as-epc-extender: subjects[0]: ServiceAccount sgx-system/sgx-schedulr is not created by this set`],
  // system:kube-scheduler also grants what the extender needs: both bindings must go.
  "extender-without-rbac": [RBAC, [["  name: system:kube-scheduler", "  name: system:kube-proxy"], ["  name: epc-extender\nsubjects:", "  name: epc-extendr\nsubjects:"]], null,
    `${DEPLOY}: ${SCHED}: spec.template.spec.serviceAccountName: ServiceAccount sgx-system/sgx-scheduler may not list pods cluster-wide, which epc-extender --in-cluster needs`],
  "lease-not-granted": [RBAC, 'resourceNames: ["sgx-scheduler"]', 'resourceNames: ["sgx-scheduler-lock"]',
    `${DEPLOY}: ${SCHED}: spec.template.spec.serviceAccountName: ServiceAccount sgx-system/sgx-scheduler may not get the Lease sgx-system/sgx-scheduler that ${CM}: ConfigMap sgx-system/sgx-scheduler-config: data["config.yaml"] elects its leader on`],
  "wrong-type": [DEPLOY, "replicas: 2", "replicas: two",
    `${DEPLOY}: ${SCHED}: spec.replicas: must be integer [kubernetes-models 4.5.1]`],
  "service-selects-nothing": [SVC, "  selector:\n    app.kubernetes.io/name: sgx-scheduler\n  ports:\n    - name: grpc", "  selector:\n    app.kubernetes.io/name: sgx-schedular\n  ports:\n    - name: grpc",
    `${SVC}: Service sgx-system/epc-extender-reports: spec.selector: selects no pod of this set`],
  "configmap-key-missing": [DEPLOY, "- key: config.yaml", "- key: conf.yaml",
    `${DEPLOY}: ${SCHED}: spec.template.spec.volumes[0].configMap.items[0].key: ConfigMap sgx-system/sgx-scheduler-config (${CM}) has no key conf.yaml`],
  "extender-http-on-loopback-only": [DEPLOY, "--http-address=0.0.0.0", "--http-address=127.0.0.1",
    `${DEPLOY}: ${SCHED}: spec.template.spec.containers[1].readinessProbe.httpGet.port: kubelet probes the pod IP, but epc-extender listens on 127.0.0.1 only`],
  "extender-reports-on-loopback-only": [DEPLOY, "--grpc-address=0.0.0.0:9090", "--grpc-address=127.0.0.1:9090",
    `${DP}: ${DS}: spec.template.spec.containers[0].args: --extender=epc-extender-reports.sgx-system.svc.cluster.local:9090: the extender behind sgx-system/epc-extender-reports listens for reports on 127.0.0.1 only`],
  // TLS and node identity (docs/security.md): what would make a daemon refuse to start, or a peer
  // fail to verify or authenticate, is reported where it is written.
  "extender-http-plain-off-loopback": [DEPLOY, [["            - --http-tls-cert-file=/etc/epc-extender/tls/tls.crt\n", ""], ["            - --http-tls-key-file=/etc/epc-extender/tls/tls.key\n", ""]], null,
    `${DEPLOY}: ${SCHED}: spec.template.spec.containers[1].args: --http-address=0.0.0.0 is not loopback and no --http-tls-cert-file is given: epc-extender refuses to start`],
  "extender-reports-unauthenticated": [DEPLOY, "--grpc-auth=token", "--grpc-auth=none",
    `${DEPLOY}: ${SCHED}: spec.template.spec.containers[1].args: --grpc-address=0.0.0.0:9090 is not loopback and the plugins are not authenticated`],
  "extender-probe-over-http": [DEPLOY, "              path: /readyz\n              port: http\n              scheme: HTTPS\n", "              path: /readyz\n              port: http\n",
    `${DEPLOY}: ${SCHED}: spec.template.spec.containers[1].readinessProbe.httpGet.scheme: HTTP (the default), but the extender serves HTTPS (--http-tls-cert-file): the probe would fail`],
  "scheduler-calls-https-extender-in-plain-text": [CM, '"https://127.0.0.1:8888/sgx"\n        enableHTTPS: true', '"http://127.0.0.1:8888/sgx"\n        enableHTTPS: false',
    `${DEPLOY}: ${SCHED}: spec.template.spec.containers[0].command: --config: ${CM}: ConfigMap sgx-system/sgx-scheduler-config: data["config.yaml"]: extenders[0].urlPrefix: the extender serves HTTPS (--http-tls-cert-file): https://`],
  "scheduler-without-the-extender-ca": [CM, "        tlsConfig:\n          caFile: /etc/epc-extender/ca/ca.crt\n", "",
    `${DEPLOY}: ${SCHED}: spec.template.spec.containers[0].command: --config: ${CM}: ConfigMap sgx-system/sgx-scheduler-config: data["config.yaml"]: extenders[0].urlPrefix: tlsConfig has neither caFile nor caData`],
  "scheduler-ca-not-mounted": [DEPLOY, "              mountPath: /etc/epc-extender/ca\n", "              mountPath: /etc/epc-extender/trust\n",
    `${DEPLOY}: ${SCHED}: spec.template.spec.containers[0].volumeMounts: extenders[0].tlsConfig.caFile: /etc/epc-extender/ca/ca.crt is on no volume mounted into kube-scheduler`],
  "extender-key-not-in-the-secret": [DEPLOY, "              - key: tls.key\n", "              - key: tls.pem\n",
    `${DEPLOY}: ${SCHED}: spec.template.spec.volumes[1].secret.items[1].key: Secret sgx-system/epc-extender-tls (made by scripts/make-extender-tls --apply) has no key tls.pem`],
  "extender-may-not-review-tokens": [RBAC, [["  name: system:kube-scheduler", "  name: system:kube-proxy"], ["  name: epc-extender\nsubjects:", "  name: epc-extendr\nsubjects:"]], null,
    `${DEPLOY}: ${SCHED}: spec.template.spec.serviceAccountName: ServiceAccount sgx-system/sgx-scheduler may not create tokenreviews, which epc-extender --grpc-auth=token needs`],
  "plugin-reports-in-plain-text": [DP, "            - --extender-ca-file=/var/run/secrets/epc-extender/ca.crt\n", "",
    `${DP}: ${DS}: spec.template.spec.containers[0].args: --extender=epc-extender-reports.sgx-system.svc.cluster.local:9090: not loopback and no --extender-ca-file: epc-device-plugin refuses to start`],
  "plugin-sends-no-token": [DP, "            - --extender-token-file=/var/run/secrets/epc-extender/token\n", "",
    `${DP}: ${DS}: spec.template.spec.containers[0].args: --extender=epc-extender-reports.sgx-system.svc.cluster.local:9090: the extender behind sgx-system/epc-extender-reports wants a ServiceAccount token (--grpc-auth=token) and the plugin sends none`],
  "plugin-token-for-another-audience": [DP, "audience: epc-extender", "audience: kubernetes",
    `${DP}: ${DS}: spec.template.spec.containers[0].args: --extender=epc-extender-reports.sgx-system.svc.cluster.local:9090: the token's audience kubernetes is not the extender behind sgx-system/epc-extender-reports's --grpc-token-audience epc-extender`],
  "plugin-account-not-accepted": [DEPLOY, "--grpc-token-service-accounts=sgx-system/epc-device-plugin", "--grpc-token-service-accounts=sgx-system/someone-else",
    `${DP}: ${DS}: spec.template.spec.containers[0].args: --extender=epc-extender-reports.sgx-system.svc.cluster.local:9090: ServiceAccount sgx-system/epc-device-plugin is not in the extender behind sgx-system/epc-extender-reports's --grpc-token-service-accounts`],
  "prometheus-scrapes-https-in-plain-text": ["config/deploy/monitoring/servicemonitor-extender.yaml", "      scheme: https\n", "",
    "config/deploy/monitoring/servicemonitor-extender.yaml: ServiceMonitor sgx-system/epc-extender: spec.endpoints[0].scheme: http (the default), but the extenders behind Service sgx-system/epc-extender-metrics serve HTTPS"],
  "nfd-unknown-operator": [NFD, "SGX: {op: Exists}", "SGX: {op: Exist}",
    `${NFD}: NodeFeatureRule sgx-epc-scheduler: spec.rules[0].matchFeatures[0].matchExpressions.SGX.op: must be equal to one of the allowed values`],
  "extended-resource-overcommitted": [WORKLOAD, "            limits:\n              memory: 128Mi\n              sgx.intel.com/epc: 512Mi", "            limits:\n              memory: 128Mi\n              sgx.intel.com/epc: 1Gi",
    `${WORKLOAD}: Deployment sgx-examples/sgx-demo: spec.template.spec.containers[0].resources.requests["sgx.intel.com/epc"]: 512Mi differs from the limit 1Gi: extended resources cannot be overcommitted`],
  "kube-scheduler-version-not-the-schemas": [DEPLOY, "kube-scheduler:v1.33.5", "kube-scheduler:v1.34.1",
    `${DEPLOY}: ${SCHED}: spec.template.spec.containers[0].image: kube-scheduler v1.34.1 is not of the Kubernetes version the manifests are validated against (v1.33`],
  "deployed-stanza-not-binding-mode": [CM, 'httpTimeout: "5s"', 'httpTimeout: "2s"',
    `${DEPLOY}: ${SCHED}: spec.template.spec.containers[0].command: --config: ${CM}: ConfigMap sgx-system/sgx-scheduler-config: data["config.yaml"]: extenders[0].httpTimeout ("2s", not "5s") differs from config/kube-scheduler/binding-mode.yaml`],
  "kustomize-file-outside-its-directory": [MON, "  - ../../../dashboards/grafana\n", "  - ../../../dashboards/grafana/configmap.yaml\n",
    `${MON}: resources[3]: ../../../dashboards/grafana/configmap.yaml: a file outside config/deploy/monitoring/`],
  "file-in-no-install-set": ["config/deploy/scheduler/extra.yaml", null, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: sgx-system\n",
    "config/deploy/scheduler/extra.yaml: is in no install set"],
  "docs-apply-list-incomplete": ["docs/install.md", "-f config/deploy/rbac.yaml", "",
    "docs/install.md: apply-without-kustomize: misses config/deploy/rbac.yaml, which kubectl apply -k config/deploy applies"],
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "broken-deploy-"));
let passed = 0, failed = 0;
const verdict = (ok, what) => { ok ? passed++ : failed++; console.log(`${ok ? "ok  " : "FAIL"} ${what}`); };
try {
  const copy = (name) => {
    const root = path.join(dir, name);
    for (const rel of COPIED) {
      const from = path.join(source, rel);
      if (fs.existsSync(from)) fs.cpSync(from, path.join(root, rel), { recursive: true });
    }
    return root;
  };
  const roots = [copy("unbroken")];
  for (const [name, [file, find, replace]] of Object.entries(cases)) {
    const root = copy(name);
    const target = path.join(root, file);
    if (find === null) {
      fs.writeFileSync(target, replace);
      roots.push(root);
      continue;
    }
    let text = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : "";
    const edits = Array.isArray(find) ? find : [[find, replace]];
    const missing = edits.find(([f]) => !text.includes(f));
    if (missing) {
      verdict(false, `${name}: ${file} no longer contains ${JSON.stringify(missing[0])}; update this case`);
      continue;
    }
    for (const [f, r] of edits) text = text.replace(f, r);
    fs.writeFileSync(target, text);
    roots.push(root);
  }

  // One run for all copies: the packages load and the closed schemas are generated once.
  const validator = path.join(path.dirname(fileURLToPath(import.meta.url)), "validate.mjs");
  const run = spawnSync(process.execPath, [validator, ...modules, ...roots.flatMap((r) => ["--root", r])], { encoding: "utf8" });
  console.log("validate.mjs on the copies (every broken one must be reported):");
  process.stdout.write(run.stdout + run.stderr);

  const unbroken = path.join(dir, "unbroken");
  verdict(run.status === 1, `validator exits 1 (it exited ${run.status})`);
  verdict(run.stdout.includes(`${unbroken}: valid`) && !run.stderr.includes(`${unbroken}/`), "the unbroken copy passes");
  for (const [name, [, , , expected]] of Object.entries(cases)) {
    if (!roots.includes(path.join(dir, name))) continue;
    verdict(run.stderr.includes(`${path.join(dir, name)}/${expected}`), `${name} is reported as "${expected}"`);
  }

  // The generated PrometheusRule: an edited rule file must make the generator's check fail.
  const rulesRoot = copy("rule-file-edited");
  const rules = path.join(rulesRoot, "dashboards/rules/epc-alerts.rules.yml");
  fs.writeFileSync(rules, fs.readFileSync(rules, "utf8").replace("for: 1h", "for: 2h"));
  const gen = spawnSync("python3", [path.join(rulesRoot, "config/deploy/monitoring/make-prometheusrule"), "--check"], { encoding: "utf8" });
  verdict(gen.status === 1 && gen.stderr.includes("is out of date with dashboards/rules/*.rules.yml: run config/deploy/monitoring/make-prometheusrule"),
    `make-prometheusrule --check fails after a rule file changed (exit ${gen.status}: ${gen.stderr.trim().split("\n").at(-1)})`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
