"""msgraph-sdk (and msgraph-core's PageIterator and BatchRequestContent) read and write the synchronization API."""

import itertools
from urllib.parse import quote

import pytest
from clients import collection_secret_keys, graph_client, pick_job, run
from kiota_abstractions.api_error import APIError
from kiota_abstractions.base_request_configuration import RequestConfiguration
from models import mismatches
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.synchronization_job import SynchronizationJob
from msgraph.generated.models.synchronization_job_restart_criteria import SynchronizationJobRestartCriteria
from msgraph.generated.models.synchronization_job_restart_scope import SynchronizationJobRestartScope
from msgraph.generated.models.synchronization_secret import SynchronizationSecret
from msgraph.generated.models.synchronization_secret_key_string_value_pair import SynchronizationSecretKeyStringValuePair
from msgraph.generated.service_principals.item.synchronization.jobs.item.restart.restart_post_request_body import RestartPostRequestBody
from msgraph.generated.service_principals.item.synchronization.jobs.item.validate_credentials.validate_credentials_post_request_body import (
    ValidateCredentialsPostRequestBody,
)
from msgraph.generated.service_principals.item.synchronization.secrets.secrets_put_request_body import SecretsPutRequestBody
from msgraph.generated.service_principals.service_principals_request_builder import ServicePrincipalsRequestBuilder
from msgraph_core import PageIterator
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem

from entra_sandbox.credentials import SECRET_KEYS as SANDBOX_SECRET_KEYS

# The names the collection can put in resetScope (plugins/module_utils/jobs.py: RESET_SCOPE_ORDER; None is refused),
# and how it writes a set of them: ascending flag order, Full folds its members in, ", " between names.
FULL_MEMBERS = ("ConnectorDataStore", "Escrows", "Watermark", "QuarantineState")
SCOPE_ORDER = FULL_MEMBERS + ("Full", "ForceDeletes")


def collection_scopes():
    """Every resetScope string the collection can send; None for empty criteria."""
    scopes = [None]
    for size in range(1, 6):
        for names in itertools.combinations(FULL_MEMBERS + ("ForceDeletes",), size):
            scopes.append(", ".join(names))
    return scopes + ["Full", "Full, ForceDeletes"]


def sdk_criteria(scope):
    """The SDK's criteria for a resetScope string: its enum holds one flag; several only fit in additional_data."""
    if scope is None:
        return SynchronizationJobRestartCriteria()
    if "," not in scope:
        return SynchronizationJobRestartCriteria(reset_scope=SynchronizationJobRestartScope(scope))
    return SynchronizationJobRestartCriteria(additional_data={"resetScope": scope})


def _jobs(client, sp_id):
    return client.service_principals.by_service_principal_id(sp_id).synchronization.jobs


def test_page_iterator_follows_next_links(fresh_sandbox):
    async def all_ids():
        client = graph_client(fresh_sandbox)
        query = ServicePrincipalsRequestBuilder.ServicePrincipalsRequestBuilderGetQueryParameters(
            select=["id", "appId", "displayName"], top=70)
        first = await client.service_principals.get(RequestConfiguration(query_parameters=query))
        seen = []
        await PageIterator(first, client.request_adapter).iterate(lambda sp: seen.append((sp.id, sp.app_id, sp.display_name)) or True)
        return seen

    seen = run(all_ids)
    pages = [entry for entry in fresh_sandbox.admin.log(kind="graph") if entry["path"] == "/v1.0/servicePrincipals"]
    assert len(pages) == 5 and [("$skiptoken=" in entry["query"]) for entry in pages] == [False] + [True] * 4  # 300 in pages of 70
    expected = [(sp["id"], sp["appId"], sp["displayName"]) for sp in fresh_sandbox.graph("GET", "/servicePrincipals?$top=999").json()["value"]]
    assert seen == expected and len(set(seen)) == 300


def test_every_job_field_lands_in_a_model_property(fresh_sandbox):
    """The SDK's models (generated from Graph's metadata) hold every field of every job of the tenant: job, status,
    quarantine, task executions, errors, schedule, progress; no field in additional_data, no unknown enum value."""
    in_progress = pick_job(fresh_sandbox, "Active")
    path = "/servicePrincipals/%s/synchronization/jobs/%s/restart" % (in_progress["service_principal_id"], quote(in_progress["job_id"]))
    assert fresh_sandbox.graph("POST", path, json={"criteria": {}}).status_code == 204  # a cycle in progress
    not_run = [job for job in fresh_sandbox.admin.jobs(fresh_sandbox.tenant_id) if job["status_code"] == "Active"][1]
    fresh_sandbox.admin.set_job(not_run["service_principal_id"], not_run["job_id"], status_code="NotRun")
    service_principals = sorted({job["service_principal_id"] for job in fresh_sandbox.admin.jobs(fresh_sandbox.tenant_id)})

    async def list_all():
        client = graph_client(fresh_sandbox)
        return [(sp_id, await _jobs(client, sp_id).get()) for sp_id in service_principals]

    problems, seen = [], set()
    for sp_id, listed in run(list_all):
        wire = fresh_sandbox.graph("GET", "/servicePrincipals/%s/synchronization/jobs" % sp_id).json()["value"]
        assert [job.id for job in listed.value] == [job["id"] for job in wire]
        for model, raw in zip(listed.value, wire, strict=True):
            problems += mismatches(model, raw, raw["id"])
            status = raw["status"]
            seen.add(status["code"])
            seen.update(name for name in ("quarantine", "lastExecution", "lastSuccessfulExecution") if status[name])
            if status["progress"]:
                seen.add("progress")
            if status["lastExecution"] and status["lastExecution"]["error"]:
                seen.add("error")
    assert problems == []
    assert seen >= {"NotConfigured", "NotRun", "Active", "Paused", "Quarantine", "quarantine", "lastExecution",
                    "lastSuccessfulExecution", "progress", "error"}


def test_get_one_job(fresh_sandbox):
    job = pick_job(fresh_sandbox, "Quarantine")

    async def get():
        return await _jobs(graph_client(fresh_sandbox), job["service_principal_id"]).by_synchronization_job_id(job["job_id"]).get()

    model = run(get)
    raw = fresh_sandbox.graph("GET", "/servicePrincipals/%s/synchronization/jobs/%s" % (job["service_principal_id"], job["job_id"])).json()
    assert isinstance(model, SynchronizationJob) and mismatches(model, raw) == []
    assert model.status.quarantine.reason.value == job["quarantine_reason"]


def test_restart_with_every_scope_the_collection_sends(fresh_sandbox):
    job = pick_job(fresh_sandbox, "Active")
    scopes = collection_scopes()

    async def restart_all():
        restart = _jobs(graph_client(fresh_sandbox), job["service_principal_id"]).by_synchronization_job_id(job["job_id"]).restart
        for scope in scopes:
            await restart.post(RestartPostRequestBody(criteria=sdk_criteria(scope)))

    fresh_sandbox.admin.clear_log()
    run(restart_all)
    posts = [entry for entry in fresh_sandbox.admin.log(kind="graph") if entry["method"] == "POST"]
    assert [entry["status"] for entry in posts] == [204] * len(scopes)
    # How the SDK writes the flags on the wire: one enum member as its name; several only through additional_data.
    expected = [{"criteria": {"resetScope": scope} if scope else {}} for scope in scopes]
    assert [entry["body"] for entry in posts] == expected
    assert fresh_sandbox.admin.job(job["service_principal_id"], job["job_id"])["summary"]["reset_scopes"] == [scope or "" for scope in scopes]


def test_the_sdk_enum_cannot_combine_flags(fresh_sandbox):
    """A fact for the docs: SynchronizationJobRestartScope is a plain string enum; a list of members is dropped
    silently (the body carries empty criteria, a different restart), and the SDK writes "@odata.type" when asked."""
    job = pick_job(fresh_sandbox, "Active")
    members = [SynchronizationJobRestartScope.Watermark, SynchronizationJobRestartScope.Escrows]
    typed = SynchronizationJobRestartCriteria(odata_type="#microsoft.graph.synchronizationJobRestartCriteria",
                                              reset_scope=SynchronizationJobRestartScope.QuarantineState)

    async def restart_twice():
        restart = _jobs(graph_client(fresh_sandbox), job["service_principal_id"]).by_synchronization_job_id(job["job_id"]).restart
        await restart.post(RestartPostRequestBody(criteria=SynchronizationJobRestartCriteria(reset_scope=members)))
        await restart.post(RestartPostRequestBody(criteria=typed))

    fresh_sandbox.admin.clear_log()
    run(restart_twice)
    posts = [entry for entry in fresh_sandbox.admin.log(kind="graph") if entry["method"] == "POST"]
    assert [(entry["status"], entry["body"]) for entry in posts] == [
        (204, {"criteria": {}}),
        (204, {"criteria": {"@odata.type": "#microsoft.graph.synchronizationJobRestartCriteria", "resetScope": "QuarantineState"}}),
    ]


def test_start_and_pause(fresh_sandbox):
    job = pick_job(fresh_sandbox, "Quarantine")

    async def start_then_pause():
        item = _jobs(graph_client(fresh_sandbox), job["service_principal_id"]).by_synchronization_job_id(job["job_id"])
        await item.start.post()
        started = await item.get()
        await item.pause.post()
        return started, await item.get()

    started, paused = run(start_then_pause)
    assert (started.status.code.value, started.schedule.state.value) == ("Active", "Active")
    assert (paused.status.code.value, paused.schedule.state.value) == ("Paused", "Paused")
    summary = fresh_sandbox.admin.job(job["service_principal_id"], job["job_id"])["summary"]
    assert (summary["starts"], summary["pauses"]) == (1, 1)


@pytest.mark.parametrize("target, status, code", [
    ("job", 404, "itemNotFound"),
    ("service_principal", 404, "Request_ResourceNotFound"),
])
def test_not_found_is_an_odata_error_with_graphs_code(fresh_sandbox, target, status, code):
    job = pick_job(fresh_sandbox, "Active")
    sp_id = job["service_principal_id"] if target == "job" else "00000000-0000-4000-8000-000000000000"
    job_id = "scim.00000000000000000000000000000000" if target == "job" else job["job_id"]

    async def get():
        return await _jobs(graph_client(fresh_sandbox), sp_id).by_synchronization_job_id(job_id).get()

    with pytest.raises(ODataError) as caught:
        run(get)
    assert (caught.value.response_status_code, caught.value.error.code) == (status, code)
    assert caught.value.error.message and caught.value.error.inner_error.request_id


def test_retry_handler_waits_out_a_429(fresh_sandbox):
    job = pick_job(fresh_sandbox, "Active")
    fresh_sandbox.admin.set_faults({"rules": [{"method": "GET", "path": "/synchronization/jobs/", "count": 1, "fault": "status",
                                               "status": 429, "retry_after": 0.5}]})

    async def get():
        return await _jobs(graph_client(fresh_sandbox), job["service_principal_id"]).by_synchronization_job_id(job["job_id"]).get()

    assert run(get).id == job["job_id"]
    tries = [entry for entry in fresh_sandbox.admin.log(kind="graph") if entry["path"].endswith(quote(job["job_id"]))]
    assert [entry["status"] for entry in tries] == [429, 200]
    assert "retry-attempt" not in tries[0]["headers"] and tries[1]["headers"]["retry-attempt"] == "1"


def test_batch_request_content_gets_per_item_answers(fresh_sandbox):
    job = pick_job(fresh_sandbox, "Quarantine")

    async def send_batch():
        client = graph_client(fresh_sandbox)
        item = _jobs(client, job["service_principal_id"]).by_synchronization_job_id(job["job_id"])
        unknown = _jobs(client, job["service_principal_id"]).by_synchronization_job_id("scim.00000000000000000000000000000000")
        infos = {"get": item.to_get_request_information(), "list": _jobs(client, job["service_principal_id"]).to_get_request_information(),
                 "restart": item.restart.to_post_request_information(RestartPostRequestBody(criteria=sdk_criteria("Watermark, QuarantineState"))),
                 "unknown": unknown.to_get_request_information()}
        content = BatchRequestContent({name: BatchRequestItem(info, id=name) for name, info in infos.items()})
        return await client.batch.post(batch_request_content=content)

    answer = run(send_batch)
    assert {name: response.status for name, response in answer.responses.items()} == {"get": 200, "list": 200, "restart": 204, "unknown": 404}
    # msgraph-core reads an item's body with get_bytes_value(), which drops a JSON object body (kiota-python issue 737):
    # Graph, and the sandbox, send JSON bodies inline as OData JSON batching says. The content type still arrives.
    assert answer.responses["get"].content_type == "application/json"
    items = {entry["method"] + " " + entry["path"].rsplit("/", 1)[-1]: entry for entry in fresh_sandbox.admin.log(kind="batch_item")}
    assert items["POST restart"]["body"] == {"criteria": {"resetScope": "Watermark, QuarantineState"}}
    assert fresh_sandbox.admin.job(job["service_principal_id"], job["job_id"])["summary"]["reset_scopes"] == ["Watermark, QuarantineState"]


def test_batch_item_with_an_absolute_url_is_refused_as_graph_does(fresh_sandbox):
    """BatchRequestItem keeps a RequestInformation's URL as it is; a full URL (with /v1.0) in an item is refused by
    Graph (msgraph-sdk-python issue 1015) and by the sandbox."""
    job = pick_job(fresh_sandbox, "Active")

    async def send_batch():
        client = graph_client(fresh_sandbox)
        info = _jobs(client, job["service_principal_id"]).to_get_request_information()
        info.url = fresh_sandbox.config["graph_url"] + "/servicePrincipals/%s/synchronization/jobs" % job["service_principal_id"]
        item = BatchRequestItem(info, id="absolute")
        assert item.url.startswith("https://")
        return await client.batch.post(batch_request_content=BatchRequestContent({"absolute": item}))

    with pytest.raises(APIError) as caught:
        run(send_batch)
    assert caught.value.response_status_code == 400


# ---- a job's credentials: validateCredentials and PUT .../synchronization/secrets ---------------------------------

REFUSED_CODE = "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
SCIM_BASE = "https://scim.target.test/v2"


def _pairs(values):
    return [SynchronizationSecretKeyStringValuePair(key=SynchronizationSecret(key), value=value) for key, value in values.items()]


def test_validate_credentials_and_save_secrets_with_the_sdk(fresh_sandbox):
    """The SDK's request builders against the sandbox: a refused test is an ODataError carrying Graph's code, an accepted
    one returns nothing (204); the PUT sends `value` and the sandbox keeps the whole set; a restart then lifts the
    credential quarantine."""
    job = pick_job(fresh_sandbox, "Active")
    sp_id, job_id = job["service_principal_id"], job["job_id"]
    good = {"BaseAddress": SCIM_BASE, "SecretToken": "sdk-good-token"}
    fresh_sandbox.admin.set_credentials(sp_id, saved={"BaseAddress": SCIM_BASE, "SecretToken": "old"}, accepts=good, cycle=True)
    fresh_sandbox.admin.clear_log()

    async def rotate():
        client = graph_client(fresh_sandbox)
        synchronization = client.service_principals.by_service_principal_id(sp_id).synchronization
        validate = synchronization.jobs.by_synchronization_job_id(job_id).validate_credentials
        with pytest.raises(ODataError) as refused:
            await validate.post(ValidateCredentialsPostRequestBody(use_saved_credentials=False,
                                                                   credentials=_pairs(dict(good, SecretToken="stale"))))
        accepted = await validate.post(ValidateCredentialsPostRequestBody(use_saved_credentials=False, credentials=_pairs(good)))
        saved = await synchronization.secrets.put(SecretsPutRequestBody(value=_pairs(good)))
        saved_test = await validate.post(ValidateCredentialsPostRequestBody(use_saved_credentials=True))
        await synchronization.jobs.by_synchronization_job_id(job_id).restart.post(RestartPostRequestBody(
            criteria=SynchronizationJobRestartCriteria(reset_scope=SynchronizationJobRestartScope.QuarantineState)))
        return refused.value, accepted, saved, saved_test

    refused, accepted, saved, saved_test = run(rotate)
    assert (refused.response_status_code, refused.error.code) == (400, REFUSED_CODE) and refused.error.inner_error.request_id
    assert accepted is None and saved is None and saved_test is None
    entries = fresh_sandbox.admin.log(kind="graph")
    assert [(entry["method"], entry["path"].rsplit("/", 1)[-1], entry["status"]) for entry in entries] == [
        ("POST", "validateCredentials", 400), ("POST", "validateCredentials", 204), ("PUT", "secrets", 204),
        ("POST", "validateCredentials", 204), ("POST", "restart", 204)]
    assert entries[2]["body"] == {"value": [{"key": "BaseAddress", "value": SCIM_BASE}, {"key": "SecretToken", "value": "sdk-good-token"}]}
    assert entries[3]["body"] == {"useSavedCredentials": True}
    assert fresh_sandbox.admin.credentials(sp_id)["saved"] == good
    assert fresh_sandbox.admin.job(sp_id, job_id)["summary"]["status_code"] == "Active"


def test_the_secret_keys_are_the_sdks_enum():
    """The sandbox's keys and the collection's (which leaves out None) are Graph's synchronizationSecret, as the SDK has it."""
    sdk = [member.value for member in SynchronizationSecret]
    assert list(SANDBOX_SECRET_KEYS) == sdk
    assert ["None"] + collection_secret_keys() == sdk
