# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inputs of the fleet playbook entra.sync.restart_jobs: one rule per input, each with a message saying what to pass.

Pure: the caller (the fleet_inputs filter) hands in the inputs and the environment. Lists stay lists; numbers become
ints; job ids, restart_if and reset_scope are checked with the modules' own rules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._fleet.inventory_hosts import HOST_TENANT_VARS, SECRET_TENANT_KEYS, TENANT_KEYS, parse_tenants
from ansible_collections.entra.sync.plugins.module_utils._graph.concurrency import MAX_CONCURRENCY
from ansible_collections.entra.sync.plugins.module_utils._jobs.decisions import validate_conditions
from ansible_collections.entra.sync.plugins.module_utils._jobs.remedy import validate_remedies
from ansible_collections.entra.sync.plugins.module_utils._jobs.scope import build_reset_scope, parse_reset_scope
from ansible_collections.entra.sync.plugins.module_utils._jobs.targets import normalize_job_targets
from ansible_collections.entra.sync.plugins.module_utils._settings.options import AUTH_METHODS, BATCH_MODES, ENV_FALLBACKS

PREFIX = "entra_sync_"
# The longest entra_sync_verify_after_delay: a credentials quarantine comes back within minutes; an hour is plenty.
MAX_VERIFY_AFTER_DELAY = 3600
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def _example(name, value):
    return "for example -e '{\"%s%s\": %s}'" % (PREFIX, name, value)


def _list(name, value, example):
    if not isinstance(value, list):
        raise InputError(
            "%s%s must be a list, got %r: pass lists as JSON or YAML, %s" % (PREFIX, name, value, _example(name, example))
        )
    return value


def _strings(name, value, example):
    items = _list(name, value, example)
    for index, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            raise InputError("%s%s[%d] must be a non-empty string, got %r: %s" % (PREFIX, name, index, item, _example(name, example)))
    return [item.strip() for item in items]


def _whole(name, value, minimum, maximum=None, example=None):
    """A whole number from an int or its digits (-e key=value gives text); bools are refused."""
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    number = int(text) if text.isdigit() else None
    if number is None or number < minimum or (maximum is not None and number > maximum):
        allowed = "%d to %d" % (minimum, maximum) if maximum is not None else ("above 0" if minimum == 1 else "0 or more")
        raise InputError(
            "%s%s must be a whole number, %s, got %r: %s" % (PREFIX, name, allowed, value, _example(name, example or max(minimum, 1)))
        )
    return number


def _seconds(name, value, example):
    """A number of seconds above 0, fractions allowed (an int, a float or its text)."""
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or not math.isfinite(number) or number <= 0:
        raise InputError("%s%s must be a number of seconds above 0, got %r: %s" % (PREFIX, name, value, _example(name, example)))
    return number


def _boolean(name, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise InputError("%s%s must be true or false, got %r: %s" % (PREFIX, name, value, _example(name, "true")))


def _text(name, value):
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError("%s%s must be a string, got %r" % (PREFIX, name, value))
    return value.strip()


def check_restart_if(value):
    if isinstance(value, list) and not value:
        raise InputError("%srestart_if must not be empty: %s" % (PREFIX, _example("restart_if", '["quarantined"]')))
    return validate_conditions(_list("restart_if", value, '["quarantined"]'))


def check_restart_remedies(value):
    """The remedies a restart is for, as a list; the quarantines with another remedy are left to a person (the report says what to do)."""
    if isinstance(value, list) and not value:
        raise InputError("%srestart_remedies must not be empty: %s" % (PREFIX, _example("restart_remedies", '["restart"]')))
    return list(validate_remedies(_list("restart_remedies", value, '["restart"]')))


def check_reset_scope(value, allow_connector_data_store):
    """The scope names in canonical case and order, and the warnings (Full contains ConnectorDataStore)."""
    names = _list("reset_scope", value, '["Watermark"]')
    scope, warnings = build_reset_scope(names or None, allow_connector_data_store)
    return parse_reset_scope(scope), warnings


def check_jobs(value):
    """None (find the jobs in each tenant), or the given jobs with duplicates dropped (a note each)."""
    if value is None:
        return None, []
    example = '[{"service_principal_id": "<object id>", "job_id": "<job id>"}]'
    if isinstance(value, list) and not value:
        raise InputError("%sjobs must not be empty: leave it out to find the jobs, or %s" % (PREFIX, _example("jobs", example)))
    targets, notes = normalize_job_targets(_list("jobs", value, example))
    kept = {target.index for target in targets}
    jobs = [dict(job, service_principal_id=job["service_principal_id"].lower()) for index, job in enumerate(value) if index in kept]
    return jobs, notes


def check_tenants(value, environ):
    """The tenants of the run (one parser with the inventory plugin) without their secrets, which the playbook reads
    from entra_sync_tenants where a task needs them (a checked input is a fact, and -v shows facts); none given: the
    one the environment names."""
    tenants = parse_tenants(_list("tenants", value, '["contoso.onmicrosoft.com"]'))
    if tenants:
        return [without_secrets(tenant) for tenant in tenants]
    from_env = next((environ[name] for name in ENV_FALLBACKS["tenant_id"] if environ.get(name)), "")
    return [{"tenant_id": from_env}]


def check_verify_after_delay(delay, verify_after):
    """The seconds to wait before reading the restarted jobs again; only with verify_after (nothing is read without it)."""
    if delay and not verify_after:
        raise InputError(
            "%sverify_after_delay %d needs %sverify_after true: the delay is how long to wait before reading the restarted jobs "
            "again, and without verify_after they are not read again; %s" % (PREFIX, delay, PREFIX, _example("verify_after", "true"))
        )
    return delay


def check_batch(value):
    if value not in BATCH_MODES:
        raise InputError("%sbatch must be one of %s, got %r: %s" % (PREFIX, ", ".join(BATCH_MODES), value, _example("batch", '"reads"')))
    return value


def check_retry_report(value, jobs):
    path = _text("retry_report", value)
    if path and jobs is not None:
        raise InputError("give %sjobs or %sretry_report, not both: the report names the jobs to retry" % (PREFIX, PREFIX))
    return path


def without_secrets(tenant):
    return {key: item for key, item in tenant.items() if key not in SECRET_TENANT_KEYS}


def check_host_tenant(value):
    """The tenant of a tenant host, from its variables: {host, vars: {name without the prefix: value}}.

    An unset or empty variable is left out (the modules then read their environment variable); tenant_id defaults to
    the host name. Returns the tenant as an entra_sync_tenants item (access_token for entra_sync_tenant_access_token).
    """
    if not isinstance(value, Mapping) or not isinstance(value.get("vars"), Mapping):
        raise InputError("a tenant host's inputs must be {host, vars}")
    host = value.get("host")
    tenant = {}
    for name, key in HOST_TENANT_VARS.items():
        given = value["vars"].get(name)
        if given is None or given == "":
            continue
        if not isinstance(given, str) or not given.strip():
            raise InputError(
                "host %s: %s%s must be a string, got %s: set it in the host's variables (inventory, host_vars or group_vars)"
                % (host, PREFIX, name, type(given).__name__)
            )
        tenant[key] = given.strip()
    tenant.setdefault("tenant_id", str(host))
    if tenant.get("auth_method", "auto") not in AUTH_METHODS:
        raise InputError("host %s: %sauth_method must be one of %s, got %r" % (host, PREFIX, ", ".join(AUTH_METHODS), tenant["auth_method"]))
    listed = {key: item for key, item in tenant.items() if key in TENANT_KEYS}
    try:
        checked = parse_tenants([listed])[0]
    except InputError as exc:
        raise InputError("host %s: %s" % (host, str(exc).replace("tenants[0]", "its tenant"))) from None
    checked.update({key: item for key, item in tenant.items() if key not in TENANT_KEYS})
    return checked


def check_tenant_hosts_form(host_tenant, tenants, jobs):
    """The run's tenant on a tenant host: its own, without its secrets (they stay in the host's variables and reach
    the modules from there), and neither entra_sync_tenants nor a job without its tenant_id."""
    if tenants:
        raise InputError(
            "host %s is a tenant host: give the tenants as inventory hosts or as %stenants on localhost, not both "
            "(-e %shosts=localhost runs the list)" % (host_tenant.get("host"), PREFIX, PREFIX)
        )
    tenant = check_host_tenant(host_tenant)
    for index, job in enumerate(jobs or []):
        if isinstance(job, Mapping) and not job.get("tenant_id"):
            raise InputError("%sjobs[%d] needs its tenant_id when the tenants are inventory hosts: each host restarts its own tenant's jobs"
                             % (PREFIX, index))
    return [without_secrets(tenant)]


# One rule per input, by the input's name without the entra_sync_ prefix. Inputs that depend on another one
# (reset_scope, jobs, tenants, retry_report) are checked in check_fleet_inputs.
_RULES = {
    "restart_if": check_restart_if,
    "restart_remedies": check_restart_remedies,
    "template_ids": lambda value: _strings("template_ids", value, '["scim"]'),
    "status_codes": lambda value: _strings("status_codes", value, '["Quarantine"]'),
    "service_principal_filter": lambda value: _text("service_principal_filter", value),
    "canary_size": lambda value: _whole("canary_size", value, 0, example=5),
    "canary_wait_timeout": lambda value: _whole("canary_wait_timeout", value, 1, example=300),
    "canary_wait_interval": lambda value: _seconds("canary_wait_interval", value, 2),
    "chunk_size": lambda value: _whole("chunk_size", value, 1, example=200),
    "concurrency": lambda value: _whole("concurrency", value, 1, MAX_CONCURRENCY, example=20),
    "status_max_age": lambda value: _whole("status_max_age", value, 0, example=300),
    "batch": check_batch,
    "report_dir": lambda value: _text("report_dir", value),
    "report_history": lambda value: _text("report_history", value),
    "verify_after": lambda value: _boolean("verify_after", value),
    "verify_after_delay": lambda value: _whole("verify_after_delay", value, 0, MAX_VERIFY_AFTER_DELAY, example=120),
    "allow_connector_data_store": lambda value: _boolean("allow_connector_data_store", value),
    "stop_on_tenant_failure": lambda value: _boolean("stop_on_tenant_failure", value),
}
_DEPENDENT = ("reset_scope", "jobs", "tenants", "retry_report", "host_tenant")


def _apply(name, rule, *args, problems):
    """rule(*args), or None with the message kept; the modules' rules name an input without the playbook's prefix."""
    try:
        return rule(*args)
    except InputError as exc:
        message = str(exc)
        problems.append(PREFIX + message if message.startswith(name) else message)
        return None


def check_fleet_inputs(inputs, environ):
    """Every given input checked by its own rule; returns them typed and normalized, with notes for the user.

    inputs: {name without the entra_sync_ prefix: value}; only the given ones are checked. Raises one InputError
    listing every bad input, each with what to pass instead.
    """
    if not isinstance(inputs, Mapping):
        raise InputError("the fleet inputs must be a dictionary of the run's inputs")
    unknown = sorted(set(inputs) - set(_RULES) - set(_DEPENDENT))
    if unknown:
        raise InputError("unknown fleet inputs %s: known ones are %s" % (", ".join(unknown), ", ".join(sorted(set(_RULES) | set(_DEPENDENT)))))
    problems = []
    checked = {name: _apply(name, rule, inputs[name], problems=problems) for name, rule in _RULES.items() if name in inputs}
    notes = []
    if "reset_scope" in inputs:
        allow = bool(checked.get("allow_connector_data_store"))
        checked["reset_scope"], warnings = _apply("reset_scope", check_reset_scope, inputs["reset_scope"], allow, problems=problems) or (None, [])
        notes += warnings
    if "jobs" in inputs:
        checked["jobs"], duplicates = _apply("jobs", check_jobs, inputs["jobs"], problems=problems) or (None, [])
        notes += duplicates
    if "tenants" in inputs:
        checked["tenants"] = _apply("tenants", check_tenants, inputs["tenants"], environ, problems=problems)
    if inputs.get("host_tenant") is not None:
        checked["tenants"] = _apply("tenants", check_tenant_hosts_form, inputs["host_tenant"], inputs.get("tenants"), inputs.get("jobs"),
                                    problems=problems)
    if checked.get("verify_after_delay"):
        _apply("verify_after_delay", check_verify_after_delay, checked["verify_after_delay"], checked.get("verify_after"), problems=problems)
    if "retry_report" in inputs:
        checked["retry_report"] = _apply("retry_report", check_retry_report, inputs["retry_report"], inputs.get("jobs"), problems=problems)
    if problems:
        raise InputError("\n".join(problems))
    checked["notes"] = notes
    return checked
