# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sync_job_events.py: an ansible-rulebook event source for Microsoft Entra synchronization jobs.

Graph sends no change notifications for synchronization jobs, so this source polls: a full discovery of the tenant
every discovery_interval, and between them a read of only the jobs found (one GET each, or 20 per $batch). It emits
one event per job whose state changed, under the key entra_sync, and a scan_error when a poll could not be completed;
it never stops on a Graph error, and never emits a secret or a token.
"""

import asyncio
import logging
import os
import sys
import time

DOCUMENTATION = r"""
---
short_description: Events when Microsoft Entra synchronization jobs become unhealthy or recover.
description:
  - Polls the synchronization jobs of one tenant through Microsoft Graph and emits one event per job whose state
    changed since the last poll, under the top-level key C(entra_sync).
  - C(entra_sync.type) is C(unhealthy) when a job enters one or more of the restart_if conditions (C(quarantined),
    C(failed), C(entry_errors), C(paused)) or a new quarantine begins (a relapse), or is in one at the first scan;
    C(recovered) when it leaves them all; C(scan_error) when a discovery or poll could not be completed (at most one
    per poll; the source backs off and goes on).
  - C(warning) (C(phase) state_file) when the state file could not be read or written; the source goes on.
  - Each event also holds C(conditions), C(previous_conditions), C(entered) (the conditions new in this event),
    C(job) (the dict entra.sync.sync_job_info returns, so it feeds entra.sync.sync_job_restart unchanged),
    C(relapses) (how many times the job entered quarantine within O(relapse_window)), C(observed_at), C(episode)
    (the start of the current quarantine) and C(heal) (C(action) restart, rotate, escalate or none, and C(reason), from
    the job's remedy, O(max_restarts), O(escalate_reasons) and O(credential_jobs)).
  - The connection options are the modules' (same names, environment fallbacks and defaults); see
    entra.sync.sync_job_info.
options:
  tenant_id: {description: Directory (tenant) id or verified domain. Env AZURE_TENANT_ID, AZURE_TENANT., type: str}
  client_id: {description: Application (client) id. Env AZURE_CLIENT_ID., type: str}
  client_secret: {description: Client secret. Env AZURE_CLIENT_SECRET, AZURE_SECRET. Never shown., type: str}
  client_certificate_path: {description: PEM or PFX certificate. Env AZURE_CLIENT_CERTIFICATE_PATH., type: path}
  client_certificate_password: {description: Its password. Env AZURE_CLIENT_CERTIFICATE_PASSWORD., type: str}
  federated_token_file: {description: Workload identity token file. Env AZURE_FEDERATED_TOKEN_FILE., type: path}
  managed_identity: {description: Client id of a user-assigned managed identity, or C(system)., type: str}
  access_token: {description: A Graph token to use as is. Env ENTRA_SYNC_ACCESS_TOKEN. Never shown., type: str}
  auth_method: {description: Sign-in method; C(auto) picks from what is given., type: str, default: auto}
  cloud: {description: Cloud (global, usgov, usgovdod). Env AZURE_CLOUD_ENVIRONMENT., type: str, default: global}
  graph_endpoint: {description: Graph root URL override. Env ENTRA_SYNC_GRAPH_ENDPOINT., type: str}
  authority_host: {description: Sign-in host override. Env AZURE_AUTHORITY_HOST., type: str}
  ca_path: {description: CA bundle to trust. Env ENTRA_SYNC_CA_PATH., type: path}
  validate_certs: {description: Check TLS certificates., type: bool, default: true}
  timeout: {description: Seconds per request., type: float, default: 30}
  max_retries: {description: Retries of a throttled or failed read., type: int, default: 5}
  interval:
    description: Seconds between status polls (at least 1). A poll reads only the jobs the last discovery found.
    type: int
    default: 300
  discovery_interval:
    description: Seconds between full discoveries of the tenant (new service principals appear then); at least O(interval).
    type: int
    default: 3600
  template_ids: {description: Only jobs of these templates (case-insensitive)., type: list, elements: str, default: []}
  service_principal_filter: {description: OData filter for the service principals discovered., type: str}
  concurrency: {description: Reads (or $batch envelopes) in flight, 1 to 64., type: int, default: 10}
  batch: {description: Read the jobs 20 per $batch envelope., type: bool, default: true}
  emit_initial: {description: At the first scan, emit an event for every job that is already unhealthy., type: bool, default: true}
  relapse_window: {description: Seconds in which quarantine entries count as relapses., type: int, default: 86400}
  max_restarts:
    description: Automatic restarts per job within O(relapse_window); a later quarantine gets C(heal.action=escalate).
    type: int
    default: 1
  escalate_reasons:
    description: Quarantine reasons that are always escalated, never restarted.
    type: list
    elements: str
    default: [TooManyDeletes]
  credential_jobs:
    description:
      - Service principal ids or job ids for which credentials are configured (the keys of the rulebook's
        C(entra_sync_heal_credentials), never their values). A new quarantine whose remedy is C(credentials) on one of
        them gets C(heal.action=rotate) (within O(max_restarts)); without it, C(escalate).
    type: list
    elements: str
    default: []
  state_file:
    description:
      - Where the source keeps each job's conditions, current quarantine and quarantine entries within
        O(relapse_window), so a restarted source resumes (a job that relapses after the restart is counted, and escalated
        past O(max_restarts)). Written atomically (mode 0600) after every poll that changed something; holds no secret.
      - Default (env E(ENTRA_SYNC_HEAL_STATE_FILE), else) C($XDG_STATE_HOME/entra.sync/) or C(~/.local/state/entra.sync/),
        one file per tenant and Graph endpoint. In EDA controller put it on a persistent volume (docs/self-heal.md).
      - An empty value is the default. A file that cannot be read or used gives one C(warning) event and a fresh start;
        a failed write one C(warning) event (the memory is then kept in the process only), and the source goes on.
    type: str
"""

EXAMPLES = r"""
- name: Keep synchronization jobs healthy
  hosts: localhost
  sources:
    - entra.sync.sync_job_events:
        interval: 300
        relapse_window: 86400
  rules:
    - name: Restart a job that a restart can fix
      condition: event.entra_sync.heal.action == "restart"
      action:
        run_playbook:
          name: entra.sync.heal
"""

logger = logging.getLogger("entra.sync.sync_job_events")


def _collection_imports():
    """ansible-rulebook runs this file with runpy: put the ansible_collections tree it sits in on sys.path."""
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.abspath(os.path.join(here, *[os.pardir] * 7))
    if os.path.isdir(os.path.join(root, "ansible_collections", "entra", "sync")) and root not in sys.path:
        sys.path.append(root)


_collection_imports()

# pylint: disable=wrong-import-position  # after the path set-up above
from ansible_collections.entra.sync.plugins.module_utils._controller.lease import JobLeases, prune_stale, stale_after  # noqa: E402
from ansible_collections.entra.sync.plugins.module_utils._exceptions import EntraSyncError  # noqa: E402
from ansible_collections.entra.sync.plugins.module_utils._heal.heal_source import HealSource, parse_source_args  # noqa: E402
from ansible_collections.entra.sync.plugins.module_utils._heal.heal_store import StateStore, state_file_path  # noqa: E402
from ansible_collections.entra.sync.plugins.module_utils._service.connect import connect  # noqa: E402


def state_store(config, connection):
    """The source's state file: the given path, else one per tenant and Graph endpoint under the user's state directory."""
    tenant_id, graph_root = connection.known_tenant_id(), connection.settings.graph_root
    path = config.state_file or state_file_path(tenant_id, graph_root)
    return StateStore(os.path.expanduser(path), tenant_id, graph_root, config.relapse_window)


def lease_housekeeping(connection):
    """Prunes the controller-local lease files the heal playbook's restarts leave (at the start and each discovery)."""
    leases = JobLeases.from_env(scope=connection.settings.graph_root)
    return lambda: prune_stale(leases.directory, stale_after(leases.timeout))


async def main(queue, args):
    """Poll until cancelled. Bad arguments, and credentials refused at the first scan, raise (ansible-rulebook stops
    and EDA controller's restart policy applies); anything later is a scan_error event and the source goes on."""
    config, get_option = parse_source_args(args)

    def new_connection():
        return connect(get_option, pool_size=config.concurrency, batch="reads" if config.batch else "none", warn=logger.warning)

    try:
        connections = [new_connection()]
    except EntraSyncError as exc:
        raise EntraSyncError("entra.sync.sync_job_events: %s" % exc) from None

    def reconnect():
        connections[0].close()
        connections[0] = new_connection()
        return connections[0].api

    first = connections[0]
    source = HealSource(first.api, config, first.known_tenant_id(), first.settings.secret_values(), reconnect=reconnect,
                        store=state_store(config, first), housekeeping=lease_housekeeping(first))
    del first  # the source holds the connection in use; a reference here would keep the first one alive for good
    try:
        while True:
            # Graph calls block: a thread keeps the loop (and ansible-rulebook's shutdown) responsive.
            try:
                events, delay = await asyncio.to_thread(source.step, time.monotonic())
            except EntraSyncError as exc:
                raise EntraSyncError("entra.sync.sync_job_events: %s" % exc) from None
            for event in events:
                await queue.put(event)
                await asyncio.sleep(0)  # let the rules engine take it before the next one
            await asyncio.sleep(delay)
    finally:
        connections[0].close()


if __name__ == "__main__":

    class MockQueue:
        """Prints the events: python sync_job_events.py with the AZURE_* / ENTRA_SYNC_* environment set."""

        async def put(self, event):
            print(event, flush=True)

    asyncio.run(main(MockQueue(), {"interval": 30}))
