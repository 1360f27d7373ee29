#!/usr/bin/env python3
"""Runs every PromQL expression of the Grafana dashboards against a live Prometheus.

usage: query_dashboards.py PROMETHEUS_URL NODE DASHBOARD.json...

Each panel and each target must use the dashboard's datasource variable, and every expression,
with the dashboard variables filled in ($node = NODE, $__rate_interval = 1m, a custom variable
= its first option), must succeed as an instant query. Expressions that select by a comparison, or read live
EPC use or its read errors (only nodes whose kernel accounts it have them), may return nothing; every other one must
return data. Prints the number of expressions run; exits 1 with the reasons on any failure.
"""
import json
import re
import sys
import urllib.parse
import urllib.request

DATASOURCE_UID = "${datasource}"


def query(base, expr):
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return json.load(reply)
    except urllib.error.HTTPError as error:  # Prometheus answers 400 with a JSON error body
        return json.load(error)


def may_be_empty(expr):
    # Live EPC series exist only on nodes whose kernel accounts it (none in the demo fleet).
    return (re.search(r"(>|<|==)\s*[0-9(]", expr) is not None or "live_used" in expr
            or "live_epc" in expr)


def main():
    base, node, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    problems, ran = [], 0
    for path in files:
        with open(path) as f:
            dashboard = json.load(f)
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        if variables.get("datasource", {}).get("type") != "datasource":
            problems.append(f"{path}: no datasource variable")
        # Custom variables (timeout, more_pods) take their first option.
        custom = {name: v["options"][0]["value"] for name, v in variables.items()
                  if v.get("type") == "custom"}
        for panel in dashboard["panels"]:
            where = f'{path}: panel "{panel["title"]}"'
            if panel.get("datasource", {}).get("uid") != DATASOURCE_UID:
                problems.append(f"{where}: datasource is not the variable")
            for target in panel.get("targets", []):
                if target.get("datasource", {}).get("uid") != DATASOURCE_UID:
                    problems.append(f"{where}: target {target['refId']} datasource is not the variable")
                expr = target["expr"].replace("$node", node).replace("$__rate_interval", "1m")
                for name, value in custom.items():
                    expr = expr.replace("$" + name, value)
                answer = query(base, expr)
                ran += 1
                if answer.get("status") != "success":
                    problems.append(f"{where}: {expr}: {answer.get('error')}")
                elif not answer["data"]["result"] and not may_be_empty(expr):
                    problems.append(f"{where}: {expr}: no data")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(ran)
    return 0


if __name__ == "__main__":
    sys.exit(main())
