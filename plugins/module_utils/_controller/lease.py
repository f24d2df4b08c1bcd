# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A controller-local lease per job, so that two runs on one controller never restart one job twice.

sync_job_restart takes the lease of each job it may restart around read, decide and restart: a self-heal restart and
a fleet run (entra.sync.restart_jobs) started at the same moment take turns on a shared job, and the second one reads
the job after the first restarted it. The lease is an exclusive flock() on one file per job in a directory both runs
use (ENTRA_SYNC_LEASE_DIR, else default_directory()); the file holds the time of the last restart sent, so a run that
trusts a status read before it (trust_input_status) reads the job again. Across controllers only the status pre-check
holds (docs/self-heal.md). The folder and its files are this user's alone (private_files.py): a lease directory another
local user made or can write in is refused, never waited on.
"""

import errno
import hashlib
import os
import tempfile
import time
from contextlib import contextmanager

from ansible_collections.entra.sync.plugins.module_utils._controller.private_files import (
    OPEN_FLAGS,
    Place,
    ensure_private_dir,
    open_in_private_dir,
    usable_dir,
)

try:
    import fcntl
except ImportError:  # not on Windows controllers, which Ansible does not support
    fcntl = None

ENV_DIR = "ENTRA_SYNC_LEASE_DIR"
ENV_TIMEOUT = "ENTRA_SYNC_LEASE_TIMEOUT"
DEFAULT_TIMEOUT = 300.0
# The longest max_status_age sync_job_restart accepts: a restart stamp older than this can make no status stale.
MAX_TRUSTED_STATUS_AGE = 86400
POLL_SECONDS = 0.05
LEASES = Place("the lease directory", "the lease file", ENV_DIR)
RUNTIME_DIR_NAME = "entra_sync_leases"


def default_directory(environ=None, usable=usable_dir):
    """ENTRA_SYNC_LEASE_DIR; else entra_sync_leases in $XDG_RUNTIME_DIR when that per-user folder (systemd makes it 0700
    at login) is this user's alone; else entra_sync_leases-<uid> in the temporary directory, judged like any other."""
    environ = os.environ if environ is None else environ
    if environ.get(ENV_DIR):
        return environ[ENV_DIR]
    runtime = environ.get("XDG_RUNTIME_DIR") or ""
    if os.path.isabs(runtime) and usable(runtime):
        return os.path.join(runtime, RUNTIME_DIR_NAME)
    return os.path.join(tempfile.gettempdir(), "entra_sync_leases-%d" % os.geteuid())


def lease_name(service_principal_id, job_id, scope=""):
    """A file name for one job of one service (scope: its Graph root URL): a hash, so any job id Graph returns is safe."""
    key = "%s %s/%s" % (scope, (service_principal_id or "").lower(), job_id or "")
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + ".lease"


class Held:
    """The leases one caller holds: which jobs it got, which it could not get in time, and their restart stamps."""

    def __init__(self, directory):
        self.directory = directory
        self.handles = {}  # (sp, job) -> file object
        self.missed = set()

    def holds(self, key):
        return key in self.handles

    def last_restart(self, key):
        """Epoch seconds of the last restart any run on this controller sent for the job, or None."""
        handle = self.handles.get(key)
        if handle is None:
            return None
        handle.seek(0)
        text = handle.read().strip()
        try:
            return float(text) if text else None
        except ValueError:
            return None

    def restarted_since(self, key, since):
        last = self.last_restart(key)
        return last is not None and last >= since

    def stamp(self, key, when=None):
        """Record that a restart of the job was sent (or may have been): later holders read the job again."""
        handle = self.handles.get(key)
        if handle is None:
            return
        handle.seek(0)
        handle.truncate()
        handle.write("%.6f\n" % (time.time() if when is None else when))
        handle.flush()

    def release(self):
        for handle in self.handles.values():
            handle.close()  # closing drops the flock
        self.handles = {}


class JobLeases:
    """Where the leases live and how long to wait for one."""

    def __init__(self, directory=None, timeout=DEFAULT_TIMEOUT, scope="", clock=time.monotonic, sleep=time.sleep):
        self.directory = directory or default_directory()
        self.scope = scope
        self.timeout = timeout
        self.clock = clock
        self.sleep = sleep

    @classmethod
    def from_env(cls, scope="", environ=None):
        """The leases of one Graph service (scope: its root URL, so that two services' jobs never share a lease)."""
        environ = os.environ if environ is None else environ
        try:
            timeout = float(environ.get(ENV_TIMEOUT) or DEFAULT_TIMEOUT)
        except ValueError:
            timeout = DEFAULT_TIMEOUT
        return cls(default_directory(environ), timeout, scope)

    def prepare(self):
        """Make the lease directory (0700) or judge the one there: LocalFileError when another user made it or can write
        in it, or it is a link. Called before any request, so a refused directory costs no call and restarts nothing."""
        self.directory = ensure_private_dir(self.directory, LEASES)

    def _path(self, key):
        return os.path.join(self.directory, lease_name(key[0], key[1], self.scope))

    def _open(self, key):
        return open_in_private_dir(self._path(key), LEASES)  # prepare() judged the folder

    def _take(self, key, deadline):
        """The locked lease file of one job, or None when another run held it past the deadline.

        A file pruned (prune_stale) between our open and our lock is no longer the lease: open the path again.
        """
        while True:
            handle = self._open(key)
            if not self._lock(handle, deadline):
                handle.close()
                return None
            if is_current(handle, self._path(key)):
                return handle
            handle.close()

    def _lock(self, handle, deadline):
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
            if self.clock() >= deadline:
                return False
            self.sleep(POLL_SECONDS)

    @contextmanager
    def hold(self, keys):
        """Take the lease of every (service_principal_id, job_id) in `keys`, in one order (no deadlock between runs).

        Waits at most `timeout` seconds in all; a job whose lease is still held by another run then is in
        `held.missed`, and the caller must not restart it.
        """
        keys = sorted({(sp.lower(), job) for sp, job in keys})
        if keys and fcntl is not None:
            self.prepare()
        held = Held(self.directory)
        deadline = self.clock() + self.timeout
        try:
            for key in keys:
                if fcntl is None:
                    break
                handle = self._take(key, deadline)
                if handle is not None:
                    held.handles[key] = handle
                else:
                    held.missed.add(key)
            yield held
        finally:
            held.release()


def is_current(handle, path):
    """True when `path` still names the file `handle` has open (it was not pruned and made again meanwhile)."""
    try:
        return os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
    except FileNotFoundError:
        return False


def stale_after(timeout):
    """Seconds after its last change that a lease file is of no use: past the lease timeout, and past the longest a
    status may be trusted (max_status_age, at most a day), since its restart stamp tells such a status is stale."""
    return max(float(timeout), MAX_TRUSTED_STATUS_AGE)


def prune_stale(directory, older_than, now=None):
    """Delete the lease files in `directory` unchanged for `older_than` seconds and held by no run; returns how many.

    Each is deleted while this process holds its lock, and a run that opened it meanwhile opens the path again after
    its lock (JobLeases._take), so no two runs ever hold two files of one job. A missing directory is nothing to prune.
    """
    if fcntl is None or not usable_dir(directory):
        return 0  # no directory yet, or not this user's alone: nothing of ours to prune there
    now = time.time() if now is None else now
    try:
        names = [name for name in os.listdir(directory) if name.endswith(".lease")]
    except OSError:
        return 0
    pruned = 0
    for name in names:
        path = os.path.join(directory, name)
        try:
            fd = os.open(path, os.O_RDWR | OPEN_FLAGS)
        except OSError:
            continue  # gone meanwhile, or not ours to open
        with os.fdopen(fd, "r+") as handle:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # held by a run now
            if now - os.fstat(fd).st_mtime >= older_than and is_current(handle, path):
                os.unlink(path)
                pruned += 1
    return pruned


def lease_key(service_principal_id, job_id):
    return ((service_principal_id or "").lower(), job_id or "")


# A status read before this run (trust_input_status) is at most max_status_age old (300 s by default): a restart stamped
# within that horizon may be newer than the status, so the job is read again.
TRUSTED_STATUS_HORIZON = 300
# The actions after which a restart may have reached the service.
SENT_ACTIONS = ("restarted", "unknown")


def busy_reason(leases):
    return ("another run on this controller held this job's lease for more than %s s (%s): not restarted; run again "
            "later, or raise %s" % (int(leases.timeout), leases.directory, ENV_TIMEOUT))
