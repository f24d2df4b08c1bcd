"""azure-identity signs in at the sandbox authority (custom authority host, instance discovery off, the sandbox's CA)."""

import base64
import json

import pytest
from clients import certificate_credential, graph_client, pick_job, run, secret_credential


def _claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.mark.parametrize("kind", ["client_secret", "certificate"])
def test_credential_gets_a_graph_token_and_the_sdk_uses_it(fresh_sandbox, kind):
    credential = secret_credential(fresh_sandbox) if kind == "client_secret" else certificate_credential(fresh_sandbox)
    app = fresh_sandbox.app("full" if kind == "client_secret" else "cert")
    token = credential.get_token(fresh_sandbox.config["scope"])
    claims = _claims(token.token)
    assert (claims["tid"], claims["appid"]) == (fresh_sandbox.tenant_id, app["client_id"])
    assert "Synchronization.ReadWrite.All" in claims["roles"]
    job = pick_job(fresh_sandbox, "Active")

    async def list_jobs():
        client = graph_client(fresh_sandbox, credential)
        return await client.service_principals.by_service_principal_id(job["service_principal_id"]).synchronization.jobs.get()

    assert job["job_id"] in [listed.id for listed in run(list_jobs).value]
    sign_ins = [entry for entry in fresh_sandbox.admin.log() if entry["kind"] == "token"]
    assert sign_ins and {entry["status"] for entry in sign_ins} == {200}
    assert {entry["body"]["grant"] for entry in sign_ins} == {"client_secret" if kind == "client_secret" else "client_assertion"}
    assert {entry["path"] for entry in sign_ins} == {"/%s/oauth2/v2.0/token" % fresh_sandbox.tenant_id}
