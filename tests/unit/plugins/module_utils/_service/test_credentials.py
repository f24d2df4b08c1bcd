# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CredentialCheck: read, then test, then save, in that order and only as far as each step allows; errors masked."""

from __future__ import annotations

import pytest

from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError, GraphError
from ansible_collections.entra.sync.plugins.module_utils._graph.sync_api import SyncApi
from ansible_collections.entra.sync.plugins.module_utils._jobs.secrets import plan_credentials
from ansible_collections.entra.sync.plugins.module_utils._jobs.targets import JobTarget
from ansible_collections.entra.sync.plugins.module_utils._service.credentials import CredentialCheck

SP_ID = "8a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
JOB_ID = "scim.0123456789abcdef0123456789abcdef"
TOKEN = "tok-5e8a1c9f-secret"
PAIRS = (("BaseAddress", "https://scim.example.com/v2"), ("SecretToken", TOKEN))
JOB = {"id": JOB_ID, "templateId": "scim", "status": {"code": "Quarantine", "quarantine": {"reason": "EncounteredQuarantineException"}}}
TARGET = JobTarget(SP_ID, JOB_ID)


class ScriptedApi(SyncApi):
    """Records every call in order; raises the error scripted for a step."""

    def __init__(self, job=None, read_error=None, test_error=None, save_error=None):
        super().__init__(client=None)
        self.job = JOB if job is None else job
        self.read_error, self.test_error, self.save_error = read_error, test_error, save_error
        self.calls = []

    def get_job(self, service_principal_id, job_id):
        self.calls.append(("get", service_principal_id, job_id))
        if self.read_error:
            raise self.read_error
        return self.job

    def validate_credentials(self, service_principal_id, job_id, body):
        self.calls.append(("validate", service_principal_id, job_id, body))
        if self.test_error:
            raise self.test_error

    def save_secrets(self, service_principal_id, body):
        self.calls.append(("save", service_principal_id, body))
        if self.save_error:
            raise self.save_error


def _run(api, pairs=PAIRS, use_saved=False, test_only=False, check_mode=False):
    return CredentialCheck(api, plan_credentials(pairs, use_saved, test_only, check_mode)).run(TARGET)


def test_read_then_test_then_save_the_whole_set_once():
    api = ScriptedApi()
    outcome = _run(api)
    assert [call[0] for call in api.calls] == ["get", "validate", "save"]
    pairs = [{"key": "BaseAddress", "value": "https://scim.example.com/v2"}, {"key": "SecretToken", "value": TOKEN}]
    assert api.calls[1][3] == {"useSavedCredentials": False, "credentials": pairs}
    assert api.calls[2][2] == {"value": api.calls[1][3]["credentials"]}
    assert (outcome.tested, outcome.accepted, outcome.saved, outcome.message) == (True, True, True, "")
    assert outcome.job.status_code == "Quarantine"


@pytest.mark.parametrize("options", [{"test_only": True}, {"check_mode": True}])
def test_test_only_and_check_mode_never_save(options):
    api = ScriptedApi()
    outcome = _run(api, **options)
    assert [call[0] for call in api.calls] == ["get", "validate"]
    assert (outcome.accepted, outcome.saved) == (True, False)


def test_saved_credentials_are_tested_and_nothing_is_saved():
    api = ScriptedApi()
    outcome = _run(api, pairs=(), use_saved=True)
    assert api.calls[1][3] == {"useSavedCredentials": True} and len(api.calls) == 2
    assert (outcome.accepted, outcome.saved) == (True, False)


def test_a_refusal_saves_nothing_and_masks_what_graph_quoted():
    refused = GraphError("POST .../validateCredentials failed: HTTP 400 SystemForCrossDomainIdentityManagementCredentialValidationFailure: "
                         "token %s rejected by https://scim.example.com/v2" % TOKEN, status=400,
                         code="SystemForCrossDomainIdentityManagementCredentialValidationFailure")
    api = ScriptedApi(test_error=refused)
    outcome = _run(api)
    assert [call[0] for call in api.calls] == ["get", "validate"]
    assert (outcome.tested, outcome.accepted, outcome.saved) == (True, False, False)
    assert outcome.message.startswith("the target refused the credentials: ") and outcome.message.endswith("Nothing was saved.")
    assert "CredentialValidationFailure" in outcome.message
    assert TOKEN not in outcome.message and "scim.example.com" not in outcome.message


@pytest.mark.parametrize("error, tested", [
    (GraphError("HTTP 401 UnknownError", status=401, code="UnknownError"), False),
    (GraphError("HTTP 503", status=503, code="serviceNotAvailable"), False),
    (GraphError("no answer", outcome_unknown=True), False),
    (AuthError("sign-in failed"), False),
])
def test_a_test_that_could_not_run_saves_nothing(error, tested):
    api = ScriptedApi(test_error=error)
    outcome = _run(api)
    assert [call[0] for call in api.calls] == ["get", "validate"]
    assert (outcome.tested, outcome.accepted, outcome.saved) == (tested, None, False)
    assert outcome.message.startswith("testing the credentials failed")


@pytest.mark.parametrize("error", [GraphError("HTTP 404 itemNotFound", status=404, code="itemNotFound"), AuthError("no token")])
def test_a_job_that_cannot_be_read_is_neither_tested_nor_saved(error):
    api = ScriptedApi(read_error=error)
    outcome = _run(api)
    assert [call[0] for call in api.calls] == ["get"]
    assert outcome.job is None and not outcome.tested and outcome.message.startswith("reading the job failed")


def test_a_body_without_an_id_is_not_a_job():
    api = ScriptedApi(job={})
    outcome = _run(api)
    assert [call[0] for call in api.calls] == ["get"] and "no job" in outcome.message


@pytest.mark.parametrize("error, saved, words", [
    (GraphError("HTTP 400 BadRequest", status=400, code="BadRequest"), False, "saving the credentials failed"),
    (GraphError("sent, no answer", outcome_unknown=True), None, "running the task again is safe"),
])
def test_a_failed_save(error, saved, words):
    outcome = _run(ScriptedApi(save_error=error))
    assert (outcome.accepted, outcome.saved) == (True, saved)
    assert words in outcome.message
