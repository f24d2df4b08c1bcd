# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet playbook's inputs: one rule each, one message each saying what to pass, typed values out."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.entra.sync.plugins.filter.fleet_filters import fleet_inputs, tenant_entry
from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._fleet.fleet_inputs import check_fleet_inputs

SP = "6f1c4b6e-2b55-4e0b-9d5c-3c4f0e0f1a2b"
# The playbook's defaults (playbooks/restart_jobs.yml vars), by name without the entra_sync_ prefix.
DEFAULTS = {
    "restart_if": ["quarantined"], "restart_remedies": ["restart"], "reset_scope": [], "template_ids": [], "status_codes": [], "service_principal_filter": "",
    "canary_size": 5, "canary_wait_timeout": 300, "canary_wait_interval": 2, "chunk_size": 200, "concurrency": 20,
    "tenants": [], "report_dir": "", "retry_report": "", "verify_after": True, "batch": "reads", "status_max_age": 300,
    "allow_connector_data_store": False, "jobs": None,
}


def checked(environ=None, **changes):
    return check_fleet_inputs(dict(DEFAULTS, **changes), environ or {})


def refusal(**changes):
    with pytest.raises(InputError) as caught:
        checked(**changes)
    return str(caught.value)


def test_defaults_pass_typed_and_lists_stay_lists():
    result = checked({"AZURE_TENANT": "second", "AZURE_TENANT_ID": "first"})
    assert result["restart_if"] == ["quarantined"] and result["reset_scope"] == [] and result["template_ids"] == []
    assert result["restart_remedies"] == ["restart"]
    assert checked(restart_remedies=["Restart", "clean_up_errors", "restart"])["restart_remedies"] == ["restart", "clean_up_errors"]
    assert result["canary_size"] == 5 and result["chunk_size"] == 200 and result["concurrency"] == 20
    assert result["jobs"] is None and result["notes"] == [] and result["batch"] == "reads"
    assert result["verify_after"] is True and result["allow_connector_data_store"] is False
    assert result["tenants"] == [{"tenant_id": "first"}], "the first env name of ENV_FALLBACKS wins"
    assert checked({"AZURE_TENANT": "second"})["tenants"] == [{"tenant_id": "second"}]
    assert checked({})["tenants"] == [{"tenant_id": ""}]


def test_text_from_key_value_extra_vars_becomes_typed():
    result = checked(canary_size="0", chunk_size=" 50 ", concurrency="64", verify_after="no", allow_connector_data_store="yes",
                     reset_scope=["Full"], canary_wait_interval="0.5")
    assert result["canary_wait_interval"] == 0.5
    assert (result["canary_size"], result["chunk_size"], result["concurrency"]) == (0, 50, 64)
    assert result["verify_after"] is False and result["allow_connector_data_store"] is True
    assert result["reset_scope"] == ["Full"] and "ConnectorDataStore" in result["notes"][0]


def test_tenants_use_the_inventory_parser():
    result = checked(tenants=[" t1.example ", {"tenant_id": "t2", "client_id": "c", "client_secret": "s"}])
    # The checked tenants become a fact, which -v shows: their secrets stay in entra_sync_tenants.
    assert result["tenants"] == [{"tenant_id": "t1.example"}, {"tenant_id": "t2", "client_id": "c"}]
    assert tenant_entry({"tenant_id": "t2", "client_id": "c"}) == {"tenant_id": "t2", "client_id": "c"}
    with pytest.raises(AnsibleFilterError, match="unknown keys region"):
        tenant_entry({"tenant_id": "t2", "region": "x"})


@pytest.mark.parametrize("changes, words", [
    ({"restart_if": "quarantined"}, ["entra_sync_restart_if must be a list", "lists", '["quarantined"]']),
    ({"restart_if": []}, ["entra_sync_restart_if must not be empty"]),
    ({"restart_if": ["bogus"]}, ["entra_sync_restart_if 'bogus'", "quarantined"]),
    ({"restart_remedies": "restart"}, ["entra_sync_restart_remedies must be a list", '["restart"]']),
    ({"restart_remedies": []}, ["entra_sync_restart_remedies must not be empty"]),
    ({"restart_remedies": ["reboot"]}, ["entra_sync_restart_remedies 'reboot' is not a remedy", "approve_deletes"]),
    ({"reset_scope": "Watermark"}, ["entra_sync_reset_scope must be a list"]),
    ({"reset_scope": ["Everything"]}, ["entra_sync_reset_scope", "Everything", "valid names"]),
    ({"reset_scope": ["ConnectorDataStore"]}, ["allow_connector_data_store"]),
    ({"template_ids": [""]}, ["entra_sync_template_ids[0] must be a non-empty string"]),
    ({"status_codes": "Quarantine"}, ["entra_sync_status_codes must be a list"]),
    ({"canary_size": -1}, ["entra_sync_canary_size must be a whole number, 0 or more"]),
    ({"canary_size": True}, ["entra_sync_canary_size must be a whole number"]),
    ({"chunk_size": 0}, ["entra_sync_chunk_size must be a whole number, above 0", "entra_sync_chunk_size\": 200"]),
    ({"canary_wait_timeout": "long"}, ["entra_sync_canary_wait_timeout must be a whole number"]),
    ({"canary_wait_interval": 0}, ["entra_sync_canary_wait_interval must be a number of seconds above 0"]),
    ({"canary_wait_interval": "soon"}, ["entra_sync_canary_wait_interval must be a number of seconds above 0"]),
    ({"concurrency": 65}, ["entra_sync_concurrency must be a whole number, 1 to 64"]),
    ({"status_max_age": 1.5}, ["entra_sync_status_max_age must be a whole number"]),
    ({"batch": "some"}, ["entra_sync_batch must be one of none, reads, all"]),
    ({"verify_after": "maybe"}, ["entra_sync_verify_after must be true or false"]),
    ({"tenants": "contoso.onmicrosoft.com"}, ["entra_sync_tenants must be a list", "lists"]),
    ({"tenants": [123]}, ["entra_sync_tenants[0] must be a tenant id"]),
    ({"tenants": ["t1", "T1"]}, ["entra_sync_tenants lists T1 twice"]),
    ({"jobs": []}, ["entra_sync_jobs must not be empty"]),
    ({"jobs": [{"service_principal_id": "My App", "job_id": "scim.1"}]}, ["entra_sync_jobs[0].service_principal_id", "GUID"]),
    ({"jobs": [{"service_principal_id": SP, "job_id": "scim.1"}], "retry_report": "r.json"}, ["entra_sync_jobs", "entra_sync_retry_report", "not both"]),
    ({"report_dir": ["out"]}, ["entra_sync_report_dir must be a string"]),
])
def test_each_bad_input_gets_its_own_message(changes, words):
    message = refusal(**changes)
    for word in words:
        assert word in message, (word, message)
    assert message.count("\n") == 0, "one bad input, one message: %s" % message


def test_every_bad_input_is_listed_once():
    message = refusal(chunk_size=0, concurrency=0, restart_if="always")
    lines = message.split("\n")
    assert len(lines) == 3
    assert [line.split()[0] for line in lines] == ["entra_sync_restart_if", "entra_sync_chunk_size", "entra_sync_concurrency"]


def test_unknown_input_names_and_the_filter_message():
    with pytest.raises(InputError, match="unknown fleet inputs chunks"):
        check_fleet_inputs({"chunks": 5}, {})
    with pytest.raises(AnsibleFilterError, match="entra.sync.restart_jobs: bad input, nothing was sent:\nentra_sync_chunk_size"):
        fleet_inputs(dict(DEFAULTS, chunk_size="big"))
