"""The collection's requests have the shape of the SDK's for the same operations (get, list, restart, start, pause,
$batch, validateCredentials, the secrets PUT), compared in the sandbox's request log: method, path, query, JSON body and the headers that matter.

Every difference is in WIRE_DIFFERENCES with its reason (tests/sandbox/README.md lists them too); one that appears and
is not there, or one listed that no longer appears, fails the test.
"""

from urllib.parse import parse_qsl, unquote

from clients import graph_client, graph_entries, pick_job, run
from collection import run_tasks
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.models.synchronization_job_restart_criteria import SynchronizationJobRestartCriteria
from msgraph.generated.models.synchronization_secret import SynchronizationSecret
from msgraph.generated.models.synchronization_secret_key_string_value_pair import SynchronizationSecretKeyStringValuePair
from msgraph.generated.service_principals.item.synchronization.jobs.item.restart.restart_post_request_body import RestartPostRequestBody
from msgraph.generated.service_principals.item.synchronization.jobs.item.validate_credentials.validate_credentials_post_request_body import (
    ValidateCredentialsPostRequestBody,
)
from msgraph.generated.service_principals.item.synchronization.secrets.secrets_put_request_body import SecretsPutRequestBody
from msgraph.generated.service_principals.service_principals_request_builder import ServicePrincipalsRequestBuilder
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem

# (operation, header): (the collection's value, the SDK's value, why they differ). None: the header is not sent.
WIRE_DIFFERENCES = {
    ("batch envelope", "accept"): ("application/json", "*/*",
                                   "msgraph-core's BatchRequestBuilder asks for anything; the collection for the JSON it parses"),
    ("batch item get job", "accept"): (None, "application/json",
                                       "the SDK copies each request's own headers into its item; the envelope's answer is JSON anyway"),
    ("batch item restart", "accept"): (None, "application/json", "as for the batch item get job"),
}
SCOPE = "Escrows, Watermark"


def operation(entry):
    """What a logged request does: 'single restart', 'batch item get job', 'batch envelope', ..."""
    if entry["kind"] == "batch":
        return "batch envelope"
    path = unquote(entry["path"])
    where = "batch item" if entry["kind"] == "batch_item" else "single"
    if entry["method"] in ("POST", "PUT"):
        return "%s %s" % (where, path.rsplit("/", 1)[-1])
    if path.endswith("/synchronization/jobs"):
        return where + " list jobs"
    if "/synchronization/jobs/" in path:
        return where + " get job"
    return where + (" list service principals" if path == "/v1.0/servicePrincipals" else " get service principal")


def shapes(entries):
    """{(operation, path): (method, query, body, headers)} of the first request of each operation on each path."""
    found = {}
    for entry in entries:
        key = (operation(entry), unquote(entry["path"]))
        found.setdefault(key, (entry["method"], sorted(parse_qsl(entry["query"])), entry["body"], entry["headers"]))
    return found


# sync_job_credentials' test and save, and the SDK's validateCredentials and secrets PUT, with the same credentials.
CREDENTIALS = {"BaseAddress": "https://scim.target.test/v2", "SecretToken": "wire-token-5d1e"}


def _collection_tasks(quarantined, active, other):
    def target(job):
        return {"service_principal_id": job["service_principal_id"], "job_id": job["job_id"]}

    return [
        {"entra.sync.sync_job_credentials": dict(target(other), credentials=CREDENTIALS)},
        {"entra.sync.sync_job_info": target(quarantined)},
        {"entra.sync.sync_job_info": {"service_principal_id": active["service_principal_id"]}},
        {"entra.sync.sync_job_restart": dict(target(quarantined), reset_scope=[name.strip() for name in SCOPE.split(",")])},
        {"entra.sync.sync_job": dict(target(active), state="paused")},
        {"entra.sync.sync_job": dict(target(active), state="started")},
        {"entra.sync.sync_job_restart": {"jobs": [target(quarantined), target(other)], "batch": "all"}},
        {"entra.sync.sync_job_info": {"batch": "reads"}},
    ]


def _sdk_operations(sandbox, quarantined, active, other):
    async def operations():
        client = graph_client(sandbox)

        def job_builder(job):
            return client.service_principals.by_service_principal_id(job["service_principal_id"]).synchronization.jobs.by_synchronization_job_id(
                job["job_id"])

        validate = job_builder(other).validate_credentials
        pairs = [SynchronizationSecretKeyStringValuePair(key=SynchronizationSecret(key), value=value) for key, value in CREDENTIALS.items()]
        await validate.post(ValidateCredentialsPostRequestBody(use_saved_credentials=False, credentials=pairs))
        await client.service_principals.by_service_principal_id(other["service_principal_id"]).synchronization.secrets.put(
            SecretsPutRequestBody(value=pairs))
        await job_builder(quarantined).get()
        await client.service_principals.by_service_principal_id(active["service_principal_id"]).synchronization.jobs.get()
        await job_builder(quarantined).restart.post(RestartPostRequestBody(criteria=SynchronizationJobRestartCriteria(
            additional_data={"resetScope": SCOPE})))
        await job_builder(active).pause.post()
        await job_builder(active).start.post()
        empty = RestartPostRequestBody(criteria=SynchronizationJobRestartCriteria())
        items = [job_builder(job).to_get_request_information() for job in (quarantined, other)]
        items += [job_builder(job).restart.to_post_request_information(empty) for job in (quarantined, other)]
        await client.batch.post(batch_request_content=BatchRequestContent({str(i): BatchRequestItem(info, id=str(i))
                                                                           for i, info in enumerate(items)}))
        query = ServicePrincipalsRequestBuilder.ServicePrincipalsRequestBuilderGetQueryParameters(select=["id", "appId", "displayName"], top=999)
        await client.service_principals.get(RequestConfiguration(query_parameters=query))

    run(operations)


def test_collection_requests_have_the_sdks_shape(fresh_sandbox, tmp_path):
    quarantined = pick_job(fresh_sandbox, "Quarantine")
    active, other = [job for job in fresh_sandbox.admin.jobs(fresh_sandbox.tenant_id) if job["status_code"] == "Active"][:2]
    fresh_sandbox.admin.clear_log()
    run_tasks(fresh_sandbox, tmp_path, _collection_tasks(quarantined, active, other))
    collection = shapes(graph_entries(fresh_sandbox))
    fresh_sandbox.admin.clear_log()
    _sdk_operations(fresh_sandbox, quarantined, active, other)
    sdk = shapes(graph_entries(fresh_sandbox))

    assert {op for op, _path in sdk} == {
        "single get job", "single list jobs", "single restart", "single pause", "single start", "single list service principals",
        "batch envelope", "batch item get job", "batch item restart", "single validateCredentials", "single secrets"}
    assert set(sdk) <= set(collection), sorted(set(sdk) - set(collection))
    seen_differences = set()
    for key, (method, query, body, headers) in sdk.items():
        theirs = collection[key]
        assert (theirs[0], theirs[1], theirs[2]) == (method, query, body), (key, theirs, (method, query, body))
        for name in sorted(set(headers) | set(theirs[3])):
            if headers.get(name) == theirs[3].get(name):
                continue
            documented = WIRE_DIFFERENCES.get((key[0], name))
            assert documented and documented[:2] == (theirs[3].get(name), headers.get(name)), \
                "%s: header %s is %r from the collection, %r from the SDK" % (key, name, theirs[3].get(name), headers.get(name))
            seen_differences.add((key[0], name))
    assert seen_differences == set(WIRE_DIFFERENCES)
    assert collection[("single restart", sdk_restart_path(sdk))][2] == {"criteria": {"resetScope": SCOPE}}


def sdk_restart_path(sdk):
    return next(path for op, path in sdk if op == "single restart")
