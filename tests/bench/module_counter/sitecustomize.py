"""`make bench`'s count of module processes: every Python process that runs an Ansible module appends one line to the
file named by ENTRA_BENCH_MODULES when it exits.

bench_measure.playbook_env puts this folder first on PYTHONPATH of the ansible-playbook runs, and a module process
started on the controller (local connection) inherits that environment, so Python imports this file as it starts. At
exit (atexit: a module ends with sys.exit) the process is a module process when its sys.path holds AnsiballZ's payload
(.../ansible_<module>_payload.zip): that is the one sign every module process has, pipelined or not, whatever its
command line. A module's work that an action plugin does inside Ansible's worker (no process) writes nothing here.

Each line: {"module": name, "cpu_s": user + system CPU of the process until exit, "peak_kib": VmHWM, "wall_s": from
this import to exit}. ansible-playbook itself and its workers (forks, which leave through os._exit) write nothing.
"""

import atexit
import os
import sys
import time

_PATH = os.environ.get("ENTRA_BENCH_MODULES")
_STARTED = time.monotonic()
_PAYLOAD = ("ansible_", "_payload.zip")


def module_name(path_entries):
    """The module a process runs, from AnsiballZ's payload on its sys.path; None when it runs none (pure)."""
    for entry in path_entries:
        base = os.path.basename(entry)
        if base.startswith(_PAYLOAD[0]) and base.endswith(_PAYLOAD[1]) and len(base) > len(_PAYLOAD[0]) + len(_PAYLOAD[1]):
            return base[len(_PAYLOAD[0]):-len(_PAYLOAD[1])]
    return None


def vm_hwm_kib(pid="self"):
    """A process's peak resident memory (VmHWM) in KiB, 0 when it is gone (bench_measure samples others with it)."""
    try:
        with open("/proc/%s/status" % pid, encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _record():
    name = module_name(sys.path)
    if name is None:
        return
    import json  # pylint: disable=import-outside-toplevel  # only module processes pay for it
    import resource  # pylint: disable=import-outside-toplevel
    usage = resource.getrusage(resource.RUSAGE_SELF)
    line = json.dumps({"module": name, "cpu_s": round(usage.ru_utime + usage.ru_stime, 3), "peak_kib": vm_hwm_kib(),
                       "wall_s": round(time.monotonic() - _STARTED, 3)})
    # One write of one short line with O_APPEND: lines of processes that end at the same time do not interleave.
    descriptor = os.open(_PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, (line + "\n").encode())
    finally:
        os.close(descriptor)


if _PATH:
    atexit.register(_record)
