"""Tenants, their service principals and jobs: a seeded generator and explicit fleets.

Deterministic for a seed. Kept compact (slotted objects, JSON built on demand) so 50,000 service
principals build in about a second.
"""

import random
import time
import uuid

from .state import DISABLED_INTERVAL, QUARANTINE_REASONS, STATUS_CODES, Job

# Apps that typically have no provisioning job.
_PLAIN_APPS = (
    "Microsoft Teams Web Client", "Office 365 Exchange Online", "Azure Portal", "Power BI Service", "Contoso HR Portal",
    "Fabrikam Expense Reports", "Graph Explorer", "Jira Cloud Connector", "Confluence SSO", "Adobe Acrobat Sign",
    "Zoom", "Cisco Webex Meetings", "DocuSign", "Tableau Cloud", "Miro", "Asana", "Smartsheet", "HubSpot",
    "Zendesk", "Freshservice", "Jamf Pro", "Okta Org2Org", "Atlassian Access", "GitLab", "Figma", "Notion",
    "Terraform Deployer", "Backup Automation", "Intranet Search", "Power Automate Connector", "Monitoring Agent",
)
# templateId -> (weight, display-name stems, schedule interval)
_TEMPLATES = {
    "scim": (30, ("Custom SCIM App", "Slack", "GitHub Enterprise Managed User", "ServiceNow", "Workplace from Meta",
                  "LinkedIn Learning", "Dropbox Business", "Snowflake"), "PT40M"),
    "AD2AADProvisioning": (14, ("Cloud Sync corp.contoso.com", "Cloud Sync emea.fabrikam.net", "Cloud Sync ad.woodgrove.com"), "PT2M"),
    "AD2AADPasswordHash": (4, ("Cloud Sync corp.contoso.com", "Cloud Sync ad.woodgrove.com"), "PT2M"),
    "AAD2ADExchangeHybridWriteback": (4, ("Cloud Sync corp.contoso.com",), "PT2M"),
    "Azure2Azure": (10, ("Cross-tenant sync to Fabrikam", "Cross-tenant sync to Northwind"), "PT40M"),
    "aws": (10, ("AWS IAM Identity Center", "AWS Single-Account Access"), "PT40M"),
    "dataBricks": (8, ("Azure Databricks SCIM Provisioning Connector",), "PT40M"),
    "BoxOutDelta": (8, ("Box",), "PT40M"),
    "SfSandboxOutDelta": (12, ("Salesforce Sandbox", "Salesforce"), "PT40M"),
}
_TEMPLATE_NAMES = tuple(_TEMPLATES)
_TEMPLATE_WEIGHTS = tuple(spec[0] for spec in _TEMPLATES.values())
_QUARANTINE_WEIGHTS = (
    ("EncounteredQuarantineException", 40), ("EncounteredEscrowProportionThreshold", 15), ("EncounteredTotalEscrowThreshold", 5),
    ("EncounteredBaseEscrowThreshold", 5), ("TooManyDeletes", 12), ("QuarantinedOnDemand", 8), ("Unknown", 8),
    ("IngestionInterrupted", 7),
)
_CREDENTIAL_ERRORS = (
    ("SalesforceInvalidCredentials", "The credentials provided for Salesforce are not valid."),
    ("SystemForCrossDomainIdentityManagementCredentialsInvalid", "The secret token is not valid or has expired."),
    ("HybridSynchronizationActiveDirectoryInvalidCredentials", "The gMSA used by the agent could not authenticate."),
    ("AzureActiveDirectoryCannotUpdateObjectsOriginatedInExternalService", "Cannot update an object mastered on-premises."),
)
_ENTRY_ERRORS = (
    ("SystemForCrossDomainIdentityManagementServiceIncompatible", "The SCIM endpoint returned an unexpected response."),
    ("AzureActiveDirectoryInvalidAttributeValue", "An attribute value is not valid for the target."),
)
APP_SHARE_WITH_JOBS = 0.2
# The quarantines of a generated fleet began before this real time (the hour the sandbox module was loaded), so one
# run's fleet is the same on every build and its seriesBegan dates (+ 28 days: disabled) are realistic.
ANCHOR = int(time.time() // 3600 * 3600)
DAY = 86400
_ESCROW_REASONS = ("EncounteredEscrowProportionThreshold", "EncounteredBaseEscrowThreshold", "EncounteredTotalEscrowThreshold")
# quarantine.error.code seen in practice (graph-facts.md), by the kind of job: (code, message, tenantActionable).
_SCIM_EXCEPTION_ERRORS = (
    ("SystemForCrossDomainIdentityManagementCredentialValidationFailure", "The secret token has expired or was revoked.", True),
    ("SystemForCrossDomainIdentityManagementCredentialValidationUnavailable", "The SCIM endpoint could not be reached.", True),
    ("SystemForCrossDomainIdentityManagementServiceTimeout", "The SCIM endpoint did not answer in time.", False),
)
_CLOUD_SYNC_EXCEPTION_ERRORS = (
    ("HybridIdentityServiceNoActiveAgents", "No provisioning agent is active.", True),
    ("HybridIdentityServiceNoAgentsAssigned", "No provisioning agent is assigned to the configuration.", True),
    ("HybridIdentityServiceInvalidResource", "The provisioning agent's registration is not valid.", True),
    ("AzureActiveDirectoryInvalidCredential", "The service account's credentials are not valid.", True),
    ("AzureActiveDirectoryExpiredCredentials", "The service account's credentials have expired.", True),
    ("AzureDirectoryServiceServerBusy", "The directory service is busy.", False),
)
_CROSS_TENANT_EXCEPTION_ERRORS = (
    ("AzureDirectoryB2BManagementPolicyCheckFailure", "Automatic redemption is not enabled in both tenants.", True),
)


class ServicePrincipal:
    __slots__ = ("sp_id", "app_id", "display_name", "jobs", "owned")

    def __init__(self, sp_id, app_id, display_name, jobs=(), owned=False):
        self.sp_id = sp_id
        self.app_id = app_id
        self.display_name = display_name
        self.jobs = list(jobs)
        self.owned = owned  # owned by the `ownedby` app

    def job(self, job_id):
        for job in self.jobs:
            if job.job_id == job_id:
                return job
        return None

    def to_graph(self, tenant_id):
        return {
            "id": self.sp_id,
            "appId": self.app_id,
            "displayName": self.display_name,
            "accountEnabled": True,
            "appOwnerOrganizationId": tenant_id,
            "applicationTemplateId": None,
            "servicePrincipalType": "Application",
            "signInAudience": "AzureADMyOrg",
            "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
        }


class Tenant:
    def __init__(self, tenant_id, service_principals):
        self.tenant_id = tenant_id
        self.service_principals = service_principals
        self.by_id = {sp.sp_id: sp for sp in service_principals}
        self.by_app_id = {sp.app_id: sp for sp in service_principals}

    def jobs(self):
        for sp in self.service_principals:
            for job in sp.jobs:
                yield sp, job

    def summary(self):
        return {
            "id": self.tenant_id,
            "service_principals": len(self.service_principals),
            "jobs": sum(len(sp.jobs) for sp in self.service_principals),
            "owned_by_ownedby": [sp.sp_id for sp in self.service_principals if sp.owned],
        }


def _guid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _job_id(rng, template_id, tenant_id):
    hex_part = "%032x" % rng.getrandbits(128)
    # Some ids carry a third segment (probably the tenant id): dataBricks always, AD2AAD sometimes.
    if template_id == "dataBricks" or (template_id == "AD2AADProvisioning" and rng.random() < 0.3):
        return "%s.%s.%s" % (template_id, hex_part, tenant_id)
    return "%s.%s" % (template_id, hex_part)


def _pick_weighted(rng, pairs):
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _make_job(rng, template_id, tenant_id):
    job = Job(_job_id(rng, template_id, tenant_id), template_id, rng.getrandbits(32),
              interval=_TEMPLATES[template_id][2], troubleshooting_null=rng.random() < 0.5,
              escrows=rng.randint(0, 30))
    roll = rng.random()
    if roll < 0.15:
        reason = _pick_weighted(rng, _QUARANTINE_WEIGHTS)
        if reason == "TooManyDeletes" and not template_id.startswith("AD2AAD"):
            reason = "EncounteredQuarantineException"
        job.code = "Quarantine"
        job.quarantine_reason = reason
        # A quarantined job shows its reason and dates: "" fields are documented only for Microsoft's Paused sample
        # below. The draw stays so that every seed keeps its fleet.
        rng.random()
        job.quarantine_series = rng.randint(1, 12)
        rng.choice(_CREDENTIAL_ERRORS)  # drawn before the errors were realistic: kept, so every seed keeps its fleet
        _realistic_quarantine(job, reason, random.Random(job.seed ^ 0x5EED))
        job.held_deletes = rng.randint(500, 2000) if reason == "TooManyDeletes" else 0
        job.last_state = "Failed"
        job.last_error = job.quarantine_error
        job.failures = rng.randint(1, 40)
    elif roll < 0.25:
        job.last_state = "Failed"
        job.last_error = rng.choice(_CREDENTIAL_ERRORS)
        job.failures = rng.randint(1, 5)
    elif roll < 0.35:
        job.last_state = "EntryLevelErrors"
        job.last_error = rng.choice(_ENTRY_ERRORS)
    elif roll < 0.40:
        job.code = "Paused"
        job.schedule_state = rng.choice(("Paused", "Disabled"))
        if rng.random() < 0.4:
            # Microsoft's own Get sample: code Paused, schedule Disabled, a quarantine object with "" fields.
            job.schedule_state = "Disabled"
            job.quarantine_reason = ""
            job.quarantine_empty = True
            job.quarantine_series = 2
            job.quarantine_error = _CREDENTIAL_ERRORS[0]
        elif job.schedule_state == "Paused" and random.Random(job.seed ^ 0x5EED).random() < 0.5:
            # The initial cycle hit the error threshold: the service pruned the escrows and paused the job.
            job.escrows_pruned = True
    elif roll < 0.45:
        job.code = rng.choice(("NotRun", "NotConfigured"))
        job.schedule_state = "Disabled" if job.code == "NotConfigured" else "Active"
        job.last_state = None
        job.escrows = 0
    if job.schedule_state == "Disabled":
        job.interval = DISABLED_INTERVAL
    return job


def _exception_errors(template_id):
    if template_id == "Azure2Azure":
        return _CROSS_TENANT_EXCEPTION_ERRORS
    if template_id.startswith("AD2AAD") or template_id == "AAD2ADExchangeHybridWriteback":
        return _CLOUD_SYNC_EXCEPTION_ERRORS
    return _SCIM_EXCEPTION_ERRORS


def _realistic_quarantine(job, reason, detail):
    """The error a quarantine of this reason carries (graph-facts.md) and when its series began: up to 27 days before
    ANCHOR, so some jobs are disabled within the week. ``detail`` is the job's own generator, apart from the fleet's."""
    if reason == "EncounteredQuarantineException":
        job.quarantine_error = detail.choice(_exception_errors(job.template_id))
    elif reason in _ESCROW_REASONS:
        # Too many objects failed: the last failing entry's error, which names no fix of its own.
        job.quarantine_error = detail.choice(_ENTRY_ERRORS) + (False,)
    else:
        job.quarantine_error = None
    age = detail.uniform(0.2, 27.5) * DAY
    job.series_began = ANCHOR - age
    job.quarantine_began = ANCHOR - detail.uniform(600, min(age, DAY))


def _jobs_for(rng, tenant_id):
    first = rng.choices(_TEMPLATE_NAMES, weights=_TEMPLATE_WEIGHTS)[0]
    templates = [first]
    if rng.random() < 0.25:
        # Cloud Sync configurations commonly pair provisioning with password hash or Exchange writeback.
        second = rng.choice(("AD2AADPasswordHash", "AAD2ADExchangeHybridWriteback")) if first.startswith("AD2AAD") else first
        templates.append(second)
    return [_make_job(rng, template_id, tenant_id) for template_id in templates]


def generate_tenant(seed, tenant_id, count, owned_count=5):
    """A seeded tenant with `count` service principals, about 20% of them with 1-2 jobs."""
    rng = random.Random("%s:%s" % (seed, tenant_id))
    sps = []
    owned_left = owned_count
    for index in range(count):
        sp_id, app_id = _guid(rng), _guid(rng)
        if rng.random() < APP_SHARE_WITH_JOBS:
            jobs = _jobs_for(rng, tenant_id)
            stem = rng.choice(_TEMPLATES[jobs[0].template_id][1])
        else:
            jobs = []
            stem = rng.choice(_PLAIN_APPS)
        owned = bool(jobs) and owned_left > 0
        owned_left -= owned
        sps.append(ServicePrincipal(sp_id, app_id, "%s %d" % (stem, index + 1), jobs, owned))
    return Tenant(tenant_id, sps)


def tenant_ids(seed, count):
    rng = random.Random("tenants:%s" % seed)
    return [_guid(rng) for _index in range(count)]


def build_explicit_tenant(tenant_id, specs, seed=0):
    """A tenant from an explicit list:
    [{"id", "appId", "displayName", "owned", "jobs": [{"id", "template_id", "status_code", ...}]}]; ids optional."""
    rng = random.Random("explicit:%s:%s" % (seed, tenant_id))
    sps = []
    for index, spec in enumerate(specs):
        jobs = []
        for job_spec in spec.get("jobs", ()):
            template_id = job_spec.get("template_id", "scim")
            if template_id not in _TEMPLATES:
                raise ValueError("unknown template_id %r" % template_id)
            job = Job(job_spec.get("id") or _job_id(rng, template_id, tenant_id), template_id, rng.getrandbits(32),
                      interval=_TEMPLATES[template_id][2])
            code = job_spec.get("status_code", "Active")
            if code not in STATUS_CODES:
                raise ValueError("unknown status_code %r" % code)
            reason = job_spec.get("quarantine_reason")
            if reason is not None and reason not in QUARANTINE_REASONS + ("",):
                raise ValueError("unknown quarantine_reason %r" % reason)
            job.set_fields(status_code=code, quarantine_reason=reason, relapse=job_spec.get("relapse"),
                           last_execution_state=job_spec.get("last_execution_state"),
                           schedule_state=job_spec.get("schedule_state"), escrows_pruned=job_spec.get("escrows_pruned"),
                           quarantine_error=job_spec.get("quarantine_error"))
            if job.series_began is not None:
                # A fleet's quarantine began quarantine_days (default 1) before ANCHOR: the same fleet posted twice in
                # one run shows the same seriesBegan, so two runs over it report alike.
                job.series_began = job.quarantine_began = ANCHOR - float(job_spec.get("quarantine_days", 1)) * DAY
            if code == "Quarantine" and job_spec.get("last_execution_state") is None:
                job.set_fields(last_execution_state="Failed")
            if job.quarantine_reason == "TooManyDeletes":
                job.held_deletes = 750
            jobs.append(job)
        sps.append(ServicePrincipal(spec.get("id") or _guid(rng), spec.get("appId") or _guid(rng),
                                    spec.get("displayName") or "Explicit App %d" % (index + 1), jobs, bool(spec.get("owned"))))
    return Tenant(tenant_id, sps)


class Fleet:
    """All tenants of a run; tenant ids stay fixed for the run, their contents can be replaced."""

    def __init__(self, tenants):
        self.tenants = {tenant.tenant_id: tenant for tenant in tenants}

    def find_job(self, sp_id, job_id):
        for tenant in self.tenants.values():
            sp = tenant.by_id.get(sp_id)
            if sp is not None:
                return tenant, sp, sp.job(job_id)
        return None, None, None

    def all_jobs(self):
        for tenant in self.tenants.values():
            for sp, job in tenant.jobs():
                yield tenant, sp, job
