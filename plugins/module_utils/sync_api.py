# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The synchronization endpoints of Graph, one method each, with the ids quoted into the path."""

from ansible_collections.entra.sync.plugins.module_utils.graph import quote_segment

SERVICE_PRINCIPAL_FIELDS = "id,appId,displayName"
PAGE_SIZE = 999


def jobs_path(service_principal_id):
    return "/servicePrincipals/%s/synchronization/jobs" % quote_segment(service_principal_id)


def job_path(service_principal_id, job_id):
    return "%s/%s" % (jobs_path(service_principal_id), quote_segment(job_id))


class SyncApi:
    """Typed calls over a GraphClient; raises GraphError/AuthError from it unchanged."""

    def __init__(self, client):
        self.client = client

    def service_principal(self, service_principal_id):
        return self.client.get("/servicePrincipals/%s" % quote_segment(service_principal_id), {"$select": SERVICE_PRINCIPAL_FIELDS})

    def iter_service_principals(self, odata_filter=None):
        params = {"$select": SERVICE_PRINCIPAL_FIELDS, "$top": str(PAGE_SIZE)}
        if odata_filter:
            params["$filter"] = odata_filter
        return self.client.iter_pages("/servicePrincipals", params)

    def list_jobs(self, service_principal_id):
        return list(self.client.iter_pages(jobs_path(service_principal_id)))

    def get_job(self, service_principal_id, job_id):
        return self.client.get(job_path(service_principal_id, job_id))

    def restart(self, service_principal_id, job_id, body):
        self.client.post(job_path(service_principal_id, job_id) + "/restart", body)

    def start(self, service_principal_id, job_id):
        self.client.post(job_path(service_principal_id, job_id) + "/start")

    def pause(self, service_principal_id, job_id):
        self.client.post(job_path(service_principal_id, job_id) + "/pause")
