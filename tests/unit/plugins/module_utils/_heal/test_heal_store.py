"""The self-heal source's state file: what is saved (pure), what is restored (pure), the atomic 0600 write, warnings."""

import json
import os
import stat

import pytest

from ansible_collections.entra.sync.plugins.module_utils._heal import heal_store
from ansible_collections.entra.sync.plugins.module_utils._heal.heal_state import JobMemory
from ansible_collections.entra.sync.plugins.module_utils._heal.heal_store import (
    StateFileError,
    StateStore,
    document_for,
    memory_from_document,
    read_state,
    state_file_path,
    write_state,
)

TENANT = "contoso.onmicrosoft.com"
ROOT = "https://graph.microsoft.com"
WINDOW = 3600
NOW = 1_800_000_000.0


def memory():
    return {
        "sp1/quarantined.1": JobMemory(("quarantined",), "2026-11-01T10:00:00Z", [NOW - 100]),
        "sp1/recovered.old": JobMemory((), None, [NOW - WINDOW - 1]),          # entry outside the window, healthy
        "sp2/relapsed.2": JobMemory((), None, [NOW - 2000, NOW - 50]),         # healthy now, entries inside
        "sp2/paused.3": JobMemory(("paused",), None, []),                       # unhealthy, no quarantine
        "sp3/healthy.4": JobMemory((), None, []),
    }


def test_the_document_keeps_unhealthy_jobs_and_entries_inside_the_window_only():
    document = document_for(memory(), NOW, WINDOW, TENANT, ROOT + "/")
    assert document["kind"] == heal_store.STATE_KIND and document["version"] == heal_store.STATE_VERSION
    assert (document["tenant_id"], document["graph_root"], document["relapse_window"]) == (TENANT, ROOT, WINDOW)
    assert list(document["jobs"]) == ["sp1/quarantined.1", "sp2/paused.3", "sp2/relapsed.2"]
    assert document["jobs"]["sp1/quarantined.1"] == {"conditions": ["quarantined"], "quarantine_began": "2026-11-01T10:00:00Z",
                                                     "entries": [NOW - 100]}
    assert document["jobs"]["sp2/relapsed.2"]["entries"] == [NOW - 2000, NOW - 50]


def test_a_saved_memory_comes_back_the_same_and_entries_age_out_on_the_way():
    document = json.loads(heal_store.encode_state(document_for(memory(), NOW, WINDOW, TENANT, ROOT)))
    restored = memory_from_document(document, NOW, WINDOW, TENANT.upper(), ROOT)
    assert restored["sp1/quarantined.1"] == JobMemory(("quarantined",), "2026-11-01T10:00:00Z", [NOW - 100])
    assert restored["sp2/relapsed.2"].entries == [NOW - 2000, NOW - 50]
    later = memory_from_document(document, NOW + 1960, WINDOW, TENANT, ROOT)
    assert later["sp2/relapsed.2"].entries == [NOW - 50]
    assert "sp1/quarantined.1" in later, "still quarantined: its conditions are kept though its entry aged out"
    assert memory_from_document(document, NOW + WINDOW, WINDOW, TENANT, ROOT).keys() == {"sp1/quarantined.1", "sp2/paused.3"}


def good():
    return document_for(memory(), NOW, WINDOW, TENANT, ROOT)


def changed(**fields):
    document = good()
    document.update(fields)
    return document


def with_job(key, value):
    return changed(jobs={key: value})


@pytest.mark.parametrize("document, words", [
    ([], "not a state file"),
    ({"jobs": {}}, "not a state file"),
    (changed(version=2), "version 2"),
    (changed(tenant_id="fabrikam.onmicrosoft.com"), "give each source its own state_file"),
    (changed(graph_root="https://127.0.0.1:8443"), "belongs to tenant"),
    (changed(jobs=[]), "no jobs mapping"),
    (with_job("no-slash", {"conditions": [], "quarantine_began": None, "entries": []}), "service principal id / job id"),
    (with_job("sp/j", "quarantined"), "service principal id / job id"),
    (with_job("sp/j", {"conditions": "quarantined", "quarantine_began": None, "entries": []}), "conditions"),
    (with_job("sp/j", {"conditions": [1], "quarantine_began": None, "entries": []}), "conditions"),
    (with_job("sp/j", {"conditions": [], "quarantine_began": 5, "entries": []}), "quarantine_began"),
    (with_job("sp/j", {"conditions": [], "quarantine_began": None, "entries": ["yesterday"]}), "entries"),
    (with_job("sp/j", {"conditions": [], "quarantine_began": None, "entries": [True]}), "entries"),
    (with_job("sp/j", {"conditions": []}), "entries"),
])
def test_a_document_that_is_not_this_sources_state_is_refused_with_the_reason(document, words):
    with pytest.raises(StateFileError, match=words):
        memory_from_document(document, NOW, WINDOW, TENANT, ROOT)


def test_the_default_file_is_one_per_tenant_and_graph_endpoint_under_the_state_directory():
    environ = {"XDG_STATE_HOME": "/var/lib/eda"}
    path = state_file_path(TENANT, ROOT, environ)
    assert path.startswith("/var/lib/eda/entra.sync/sync_job_events-contoso.onmicrosoft.com-") and path.endswith(".json")
    assert state_file_path(TENANT, ROOT + "/", environ) == path
    assert state_file_path(TENANT, "https://127.0.0.1:8443", environ) != path
    assert state_file_path("fabrikam.onmicrosoft.com", ROOT, environ) != path
    assert state_file_path(TENANT, ROOT, {}, home="/home/eda").startswith("/home/eda/.local/state/entra.sync/")
    assert "/" not in os.path.basename(state_file_path("../../etc/x", ROOT, environ))
    assert "sync_job_events-default-" in state_file_path(None, ROOT, environ)


def test_the_file_is_written_whole_with_mode_0600_in_a_0700_directory(tmp_path):
    path = str(tmp_path / "state" / "heal.json")
    write_state(path, good())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "state").st_mode) == 0o700
    assert read_state(path) == good()
    write_state(path, changed(jobs={}))
    assert read_state(path)["jobs"] == {}
    assert os.listdir(tmp_path / "state") == ["heal.json"], "no temporary file left beside it"


def test_reading_no_file_is_a_fresh_start_and_a_bad_one_an_error(tmp_path):
    assert read_state(str(tmp_path / "missing.json")) is None
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"kind": "entra.sync.sync_job_events state", "jobs": {')
    with pytest.raises(StateFileError, match="not valid JSON"):
        read_state(str(corrupt))
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(StateFileError, match="not valid JSON"):
        read_state(str(binary))
    link = tmp_path / "link.json"
    link.symlink_to(corrupt)
    with pytest.raises(StateFileError, match="Refusing the state file .*: it is a symbolic link"):
        read_state(str(link))


def test_a_place_that_is_not_this_users_alone_is_refused_and_nothing_is_left_behind(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the state directory should be")
    with pytest.raises(StateFileError, match="Refusing the state file's directory .*: it is not a directory"):
        write_state(str(blocker / "heal.json"), good())
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)  # a folder others can write in: they could swap the file under the source
    with pytest.raises(StateFileError, match="state_file \\(env ENTRA_SYNC_HEAL_STATE_FILE\\)"):
        write_state(str(shared / "heal.json"), good())
    taken = tmp_path / "taken"
    (taken / "heal.json").mkdir(parents=True)
    with pytest.raises(StateFileError, match="Refusing the state file "):
        write_state(str(taken / "heal.json"), good())
    assert os.listdir(taken) == ["heal.json"] and os.listdir(shared) == []


class Files:
    """read/write for StateStore that count and can fail."""

    def __init__(self, document=None, read_error=None):
        self.document, self.read_error, self.write_error, self.writes = document, read_error, None, []

    def read(self, path):
        if self.read_error:
            raise StateFileError(self.read_error)
        return self.document

    def write(self, path, document):
        if self.write_error:
            raise StateFileError(self.write_error)
        self.writes.append(document)


def store(files):
    return StateStore("/state/heal.json", TENANT, ROOT, WINDOW, read=files.read, write=files.write)


def test_the_store_writes_only_when_the_memory_changed():
    files = Files(good())
    keeper = store(files)
    restored, warning = keeper.load(NOW)
    assert warning is None and restored.keys() == {"sp1/quarantined.1", "sp2/paused.3", "sp2/relapsed.2"}
    assert keeper.save(restored, NOW) is None and files.writes == [], "what was read needs no write"
    restored["sp3/new.5"] = JobMemory(("quarantined",), "2026-11-02T00:00:00Z", [NOW])
    keeper.save(restored, NOW)
    keeper.save(restored, NOW + 1)
    assert len(files.writes) == 1
    keeper.save(restored, NOW + WINDOW)  # entries aged out: the document changed
    assert len(files.writes) == 2


def test_an_unusable_file_is_one_warning_and_a_fresh_start():
    restored, warning = store(Files(read_error="it is not valid JSON")).load(NOW)
    assert restored == {}
    assert "/state/heal.json cannot be used: it is not valid JSON" in warning and "no memory of earlier quarantines" in warning
    restored, warning = store(Files(changed(tenant_id="other"))).load(NOW)
    assert restored == {} and "give each source its own state_file" in warning
    assert store(Files(None)).load(NOW) == ({}, None)


def test_a_failing_write_warns_once_until_a_write_succeeds_again():
    files = Files()
    keeper = store(files)
    files.write_error = "cannot be written (Read-only file system)"
    warnings = [keeper.save({"sp/j": JobMemory(("paused",), None, [])}, NOW + step) for step in range(3)]
    assert warnings[0].startswith("the state file /state/heal.json cannot be written (Read-only file system)")
    assert "persistent volume" in warnings[0] and warnings[1:] == [None, None]
    files.write_error = None
    assert keeper.save({"sp/j": JobMemory(("paused",), None, [])}, NOW) is None and len(files.writes) == 1
    files.write_error = "cannot be written (No space left on device)"
    assert keeper.save({}, NOW) is not None, "a new failure after a success warns again"
