# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Synchronization jobs as Graph sends them, shared by the tests of the job model, the decisions and the targets."""

from __future__ import annotations

from ansible_collections.entra.sync.plugins.module_utils._jobs.job import parse_job

SP_ID = "8a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
OTHER_SP_ID = "11111111-2222-4333-8444-555555555555"
JOB_ID = "AD2AADProvisioning.fd1c9b9e8077402c8bc03a7186c8f976"
OTHER_JOB_ID = "scim.0123456789abcdef0123456789abcdef"

# The Cloud Sync example from Microsoft's docs (graph-sync-api-notes.md section 1.7).
ACTIVE_JOB = {
    "id": JOB_ID,
    "templateId": "AD2AADProvisioning",
    "schedule": {"expiration": None, "interval": "PT2M", "state": "Active"},
    "status": {
        "countSuccessiveCompleteFailures": 0,
        "escrowsPruned": False,
        "code": "Active",
        "lastSuccessfulExecutionWithExports": None,
        "quarantine": None,
        "steadyStateFirstAchievedTime": "2019-11-08T15:48:05.7360238Z",
        "steadyStateLastAchievedTime": "2019-11-20T16:17:24.7957721Z",
        "troubleshootingUrl": "",
        "lastExecution": {
            "activityIdentifier": "2dea06a7-2960-420d-931e-f6c807ebda24",
            "countEntitled": 0,
            "countEscrowed": 15,
            "state": "Succeeded",
            "error": None,
            "timeBegan": "2019-11-20T16:15:21.116098Z",
            "timeEnded": "2019-11-20T16:17:24.7488681Z",
        },
        "lastSuccessfulExecution": {
            "activityIdentifier": None,
            "countExported": 5,
            "state": "Succeeded",
            "error": None,
            "timeBegan": "0001-01-01T00:00:00Z",
            "timeEnded": "2019-11-20T14:09:46.8855027Z",
        },
        "progress": [],
        "synchronizedEntryCountByType": [
            {"key": "group to Group", "value": 33},
            {"key": "user to User", "value": 3},
        ],
    },
    "synchronizationJobSettings": [{"name": "QuarantineTooManyDeletesThreshold", "value": "500"}],
}

# The v1.0 Get page sample: code Paused, schedule Disabled, a quarantine object with empty strings.
PAUSED_WITH_QUARANTINE_JOB = {
    "id": "SfSandboxOutDelta.e4bbf44533ea4eabb17027f3a92e92aa",
    "templateId": "SfSandboxOutDelta",
    "schedule": {"expiration": None, "interval": "P10675199DT2H48M5.4775807S", "state": "Disabled"},
    "status": {
        "code": "Paused",
        "countSuccessiveCompleteFailures": 0,
        "escrowsPruned": False,
        "lastExecution": None,
        "lastSuccessfulExecution": None,
        "quarantine": {
            "currentBegan": "",
            "nextAttempt": "",
            "reason": "",
            "seriesBegan": "",
            "seriesCount": 2,
            "error": {"code": "SalesforceInvalidCredentials", "message": "bad credentials", "tenantActionable": True},
        },
        "steadyStateLastAchievedTime": "0001-01-01T00:00:00Z",
        "troubleshootingUrl": None,
    },
}


def quarantined_job(reason="EncounteredEscrowProportionThreshold", last_state="Failed", code="Quarantine"):
    return {
        "id": OTHER_JOB_ID,
        "templateId": "scim",
        "schedule": {"interval": "PT40M", "state": "Active"},
        "status": {
            "code": code,
            "countSuccessiveCompleteFailures": 7,
            "quarantine": {
                "currentBegan": "2024-05-01T10:00:00.0000000Z",
                "nextAttempt": "2024-05-02T10:00:00Z",
                "reason": reason,
                "seriesBegan": "2024-04-30T10:00:00Z",
                "seriesCount": 3,
                "error": None,
            },
            "lastExecution": {
                "state": last_state,
                "error": {"code": "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable", "message": "401 from the app"},
                "timeBegan": "2024-05-01T09:58:00Z",
                "timeEnded": "2024-05-01T10:00:00Z",
            },
        },
    }


def job_with(code=None, schedule_state=None, last_state=None, quarantine_reason=None):
    raw = {"id": OTHER_JOB_ID, "templateId": "scim", "schedule": {"state": schedule_state}, "status": {"code": code}}
    if last_state is not None:
        raw["status"]["lastExecution"] = {"state": last_state}
    if quarantine_reason is not None:
        raw["status"]["quarantine"] = {"reason": quarantine_reason}
    return parse_job(raw, {"id": SP_ID})
