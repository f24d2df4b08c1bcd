# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The self-heal event source's memory on disk, so a restarted source resumes where it stopped.

Without it the relapse count dies with the process: an activation that EDA controller restarts (a failed activation,
an upgrade, a reboot) would restart a job that relapsed once more, and the guard rail against a restart loop is gone.

The file holds, per job that is unhealthy or has quarantine entries within the relapse window: its conditions, its
current quarantine's start and the epoch seconds of those entries. Never a secret: job keys, condition names, times,
and the tenant and Graph root it belongs to (a file of another tenant or service is not used).

document_for / memory_from_document / state_file_path are pure; read_state / write_state do the I/O through
private_files (a 0700 folder and a 0600 file of this user's alone, never through a link; written whole: a temporary
file in the same folder, then renamed over it).
"""

import hashlib
import json
import os
import re

from ansible_collections.entra.sync.plugins.module_utils._controller.private_files import Place, read_private_file, write_private_file
from ansible_collections.entra.sync.plugins.module_utils._exceptions import LocalFileError
from ansible_collections.entra.sync.plugins.module_utils._heal.heal_state import JobMemory

STATE_VERSION = 1
STATE_KIND = "entra.sync.sync_job_events state"
ENV_STATE_FILE = "ENTRA_SYNC_HEAL_STATE_FILE"
# A state file bigger than this is not used (a state file holds a few hundred bytes per unhealthy job).
MAX_STATE_BYTES = 64 * 1024 * 1024
STATE_PLACE = Place("the state file's directory", "the state file", "state_file (env %s)" % ENV_STATE_FILE)


class StateFileError(Exception):
    """The state file cannot be used; the message names the file and says what happens (a fresh start)."""


def state_file_path(tenant_id, graph_root, environ=None, home=None):
    """The default state file: one per tenant and Graph endpoint, under the user's state directory.

    $XDG_STATE_HOME/entra.sync/ (else ~/.local/state/entra.sync/), named for the tenant and a digest of the Graph
    root, so two sources watching two tenants (or a sandbox and the real service) never share a file.
    """
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_STATE_HOME") or os.path.join(home or os.path.expanduser("~"), ".local", "state")
    tenant = re.sub(r"[^A-Za-z0-9._-]", "_", tenant_id or "default")[:100]
    digest = hashlib.sha256((graph_root or "").rstrip("/").lower().encode("utf-8")).hexdigest()[:12]
    return os.path.join(base, "entra.sync", "sync_job_events-%s-%s.json" % (tenant, digest))


def _identity(tenant_id, graph_root):
    return {"tenant_id": (tenant_id or "").lower(), "graph_root": (graph_root or "").rstrip("/").lower()}


def _kept_entries(entries, now, window):
    return [when for when in entries if now - when < window]


def document_for(memory, now, relapse_window, tenant_id, graph_root):
    """The state to save (pure): the jobs that are unhealthy or have entries within the window, in key order.

    A healthy job with no recent entry is left out: to the source it is the same as a job it has never seen.
    """
    jobs = {}
    for key in sorted(memory):
        job = memory[key]
        entries = _kept_entries(job.entries, now, relapse_window)
        if job.conditions or entries:
            jobs[key] = {"conditions": list(job.conditions), "quarantine_began": job.quarantine_began, "entries": entries}
    return dict(_identity(tenant_id, graph_root), kind=STATE_KIND, version=STATE_VERSION, relapse_window=relapse_window, jobs=jobs)


def _job_memory(key, value):
    if not isinstance(key, str) or "/" not in key or not isinstance(value, dict):
        raise ValueError("job %r is not a service principal id / job id with its state" % (key,))
    conditions, began, entries = value.get("conditions"), value.get("quarantine_began"), value.get("entries")
    if not isinstance(conditions, list) or not all(isinstance(c, str) for c in conditions):
        raise ValueError("job %s: conditions must be a list of names" % key)
    if began is not None and not isinstance(began, str):
        raise ValueError("job %s: quarantine_began must be a date or null" % key)
    if not isinstance(entries, list) or not all(isinstance(e, (int, float)) and not isinstance(e, bool) for e in entries):
        raise ValueError("job %s: entries must be a list of epoch seconds" % key)
    return JobMemory(tuple(conditions), began, sorted(float(e) for e in entries))


def memory_from_document(document, now, relapse_window, tenant_id, graph_root):
    """{job key: JobMemory} from a saved document, entries outside the window pruned (pure).

    Raises StateFileError when the document is not a state of this source, tenant and Graph root.
    """
    if not isinstance(document, dict) or document.get("kind") != STATE_KIND:
        raise StateFileError("it is not a state file of entra.sync.sync_job_events")
    if document.get("version") != STATE_VERSION:
        raise StateFileError("its version %r is not %d" % (document.get("version"), STATE_VERSION))
    if _identity(document.get("tenant_id"), document.get("graph_root")) != _identity(tenant_id, graph_root):
        raise StateFileError("it belongs to tenant %s at %s, not to this source's tenant %s at %s: give each source its own "
                             "state_file" % (document.get("tenant_id"), document.get("graph_root"), tenant_id, graph_root))
    jobs = document.get("jobs")
    if not isinstance(jobs, dict):
        raise StateFileError("it holds no jobs mapping")
    memory = {}
    try:
        for key, value in jobs.items():
            job = _job_memory(key, value)
            job.entries = _kept_entries(job.entries, now, relapse_window)
            if job.conditions or job.entries:
                memory[key] = job
    except ValueError as exc:
        raise StateFileError(str(exc)) from None
    return memory


def encode_state(document):
    return json.dumps(document, sort_keys=True, separators=(",", ":")) + "\n"


def read_state(path):
    """The document in `path`, or None when there is no file yet. Raises StateFileError when it cannot be used."""
    try:
        text = read_private_file(path, STATE_PLACE)
    except LocalFileError as exc:
        raise StateFileError(str(exc)) from None
    except UnicodeDecodeError:
        raise StateFileError("it is not valid JSON (a partial copy, or another program wrote it)") from None
    if text is None:
        return None
    if len(text) > MAX_STATE_BYTES:
        raise StateFileError("it is larger than %d bytes" % MAX_STATE_BYTES)
    try:
        return json.loads(text)
    except ValueError:
        raise StateFileError("it is not valid JSON (a partial copy, or another program wrote it)") from None


def write_state(path, document):
    """Save a document (private_files: 0600, atomic, in a 0700 folder of this user's alone); raises StateFileError (the
    source warns once and goes on) when it cannot be written."""
    try:
        write_private_file(path, encode_state(document), STATE_PLACE)
    except LocalFileError as exc:
        raise StateFileError(str(exc)) from None


class StateStore:
    """One source's state file: read once at start, written when the memory changed since the last write.

    Problems come back as one message each (the source makes a warning event of it) and never stop the source: an
    unusable file at start means a fresh start; a failed write keeps the memory in the process only, with one warning
    until a write succeeds again.
    """

    def __init__(self, path, tenant_id, graph_root, relapse_window, read=read_state, write=write_state):
        self.path = path
        self.tenant_id = tenant_id
        self.graph_root = graph_root
        self.relapse_window = relapse_window
        self._read = read
        self._write = write
        self._saved = None
        self._failing = False

    def load(self, now):
        """({job key: JobMemory}, warning message or None)."""
        try:
            document = self._read(self.path)
            if document is None:
                return {}, None
            memory = memory_from_document(document, now, self.relapse_window, self.tenant_id, self.graph_root)
        except StateFileError as exc:
            return {}, ("the state file %s cannot be used: %s. Starting with no memory of earlier quarantines (relapses "
                        "count from now); it is replaced at the next save." % (self.path, exc))
        self._saved = document_for(memory, now, self.relapse_window, self.tenant_id, self.graph_root)
        return memory, None

    def save(self, memory, now):
        """Write the memory when it changed; a warning message the first time a write fails, else None."""
        document = document_for(memory, now, self.relapse_window, self.tenant_id, self.graph_root)
        if document == self._saved:
            return None
        try:
            self._write(self.path, document)
        except StateFileError as exc:
            first = not self._failing
            self._failing = True
            if first:
                return ("the state file %s %s: the memory of quarantines is kept in this process only until a write "
                        "succeeds; a restart of the source would forget it. Give state_file a writable path (a persistent "
                        "volume in EDA controller)." % (self.path, exc))
            return None
        self._saved, self._failing = document, False
        return None
