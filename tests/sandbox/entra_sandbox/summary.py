"""`python -m entra_sandbox summary`: the counters of a running sandbox, readable."""

import json
import os

import requests


def fetch_and_format(state_dir):
    with open(os.path.join(state_dir, "sandbox.json"), encoding="utf-8") as handle:
        config = json.load(handle)
    response = requests.get(config["admin_url"] + "/counters", verify=config["ca_path"], timeout=30)
    response.raise_for_status()
    return format_counters(response.json())


def format_counters(counters):
    totals = counters.get("totals", {})
    lines = ["Sandbox counters"]
    lines.append("  requests:   " + _pairs(counters.get("requests", {})))
    lines.append("  jobs:       restarts %d, starts %d, pauses %d, restarted more than once %d, starts while active %d" % (
        totals.get("restarts", 0), totals.get("starts", 0), totals.get("pauses", 0),
        totals.get("jobs_restarted_more_than_once", 0), totals.get("starts_while_active", 0)))
    lines.append("  429 sent:   %d (throttled %d)" % (counters.get("status_429", 0), counters.get("throttled", 0)))
    lines.append("  faults:     " + _pairs(counters.get("faults", {})))
    lines.append("  tokens:")
    for tenant_id, apps in sorted(counters.get("token_requests", {}).items()):
        lines.append("    %s: %s" % (tenant_id, _pairs(apps)))
    return "\n".join(lines)


def _pairs(mapping):
    if not mapping:
        return "none"
    return ", ".join("%s %s" % (key, value) for key, value in sorted(mapping.items()))
