# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The folders and files the collection keeps on the controller: this user's alone, or refused with what to do."""

import os
import stat
import threading
from collections import namedtuple

import pytest

from ansible_collections.entra.sync.plugins.module_utils._controller import private_files
from ansible_collections.entra.sync.plugins.module_utils._controller.private_files import (
    Found,
    Place,
    append_private_line,
    check_private_file,
    ensure_private_dir,
    group_alone,
    judge,
    open_private_file,
    read_private_file,
    usable_dir,
    write_private_file,
)
from ansible_collections.entra.sync.plugins.module_utils._exceptions import EntraSyncError, LocalFileError

PLACE = Place("the lease directory", "the lease file", "ENTRA_SYNC_LEASE_DIR")
SECRET = Place("the token cache's directory", "the token cache", "token_cache_path", secret="refresh tokens")
ME, OTHER = 1000, 65534
NAMES = {ME: "ops", OTHER: "nobody", 0: "root"}
DIR, FILE, LINK = stat.S_IFDIR, stat.S_IFREG, stat.S_IFLNK
NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user (nobody) needs root; CI runs the tests as root")


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


# ---- the one decision ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("place, kind, found, expected", [
    # folders: this user's, writable by nobody else
    (PLACE, "directory", Found(ME, DIR | 0o700), None),
    (PLACE, "directory", Found(ME, DIR | 0o755), None),  # a shared project folder of yours: others read, nobody else writes
    (PLACE, "directory", Found(ME, DIR | 0o775), "other users can write in it. Run `chmod go-w /p`"),
    (PLACE, "directory", Found(ME, DIR | 0o775, group_alone=True), None),  # a user private group (Debian, Ubuntu, Fedora)
    (PLACE, "directory", Found(ME, DIR | 0o777, group_alone=True), "other users can write in it"),
    (PLACE, "directory", Found(ME, DIR | 0o1777), "other users can write in it"),
    (PLACE, "directory", Found(OTHER, DIR | 0o700), "it belongs to another user, not to you (ops (uid 1000)): that user could"),
    (PLACE, "directory", Found(0, DIR | 0o755), "it belongs to another user, not to you"),
    (PLACE, "directory", Found(ME, LINK | 0o777, is_symlink=True), "it is a symbolic link"),
    (PLACE, "directory", Found(OTHER, LINK | 0o777, is_symlink=True), "it is a symbolic link"),
    (PLACE, "directory", Found(ME, FILE | 0o600), "it is not a directory"),
    # files: the same, and a secret is readable by nobody else either
    (PLACE, "file", Found(ME, FILE | 0o600), None),
    (PLACE, "file", Found(ME, FILE | 0o644), None),
    (PLACE, "file", Found(ME, FILE | 0o664), "other users can change it. Run `chmod go-w /p`"),
    (PLACE, "file", Found(ME, FILE | 0o666), "other users can change it"),
    (PLACE, "file", Found(OTHER, FILE | 0o600), "it belongs to another user"),
    (PLACE, "file", Found(ME, LINK | 0o777, is_symlink=True), "it is a symbolic link"),
    (PLACE, "file", Found(ME, DIR | 0o700), "it is not a regular file"),
    (SECRET, "file", Found(ME, FILE | 0o600), None),
    (SECRET, "file", Found(ME, FILE | 0o400), None),
    (SECRET, "file", Found(ME, FILE | 0o640, group_alone=True), "can be read or changed by others, and it holds refresh tokens"),
    (SECRET, "file", Found(ME, FILE | 0o604), "Run `chmod 600 /p`"),
    (SECRET, "directory", Found(ME, DIR | 0o755), None),
])
def test_judge(place, kind, found, expected):
    problem = judge(place, "/p", kind, found, ME, NAMES)
    if expected is None:
        assert problem is None
        return
    assert expected in problem
    label = place.folder if kind == "directory" else place.file
    # every refusal names the path, its owner and mode, and what to do (the option that moves it)
    owner = private_files._who(found.owner_uid, NAMES)
    assert problem.startswith("Refusing %s /p (owner %s, mode %04o): " % (label, owner, stat.S_IMODE(found.mode)))
    assert problem.endswith("or choose another path with %s." % place.setting)


def test_judge_without_a_setting_or_names():
    problem = judge(Place("the folder", "the file"), "/p", "file", Found(OTHER, FILE | 0o600), ME)
    assert "owner uid 65534" in problem and "not to you (uid 1000)" in problem and problem.endswith("or choose another path.")


Entry = namedtuple("Entry", "pw_name pw_uid pw_gid")


@pytest.mark.parametrize("primary, listed, alone", [
    ([("ops", ME)], [], True),  # ops's private group
    ([("ops", ME)], ["ops"], True),
    ([("ops", ME), ("eve", 1001)], [], False),  # eve's primary group too
    ([("ops", ME)], ["eve"], False),  # eve listed as a member
    ([], ["ops"], True),
    ([], [], False),  # no member at all: a group for setgid programs, not the user's
])
def test_group_alone_follows_debians_openssh(monkeypatch, primary, listed, alone):
    users = [Entry(name, uid, 4242) for name, uid in primary] + [Entry("root", 0, 0)]
    monkeypatch.setattr(private_files.grp, "getgrgid", lambda gid: namedtuple("G", "gr_mem")(listed))
    monkeypatch.setattr(private_files.pwd, "getpwall", lambda: users)
    monkeypatch.setattr(private_files.pwd, "getpwuid", lambda uid: Entry("ops", ME, 4242))
    assert group_alone(4242, ME) is alone


# ---- folders -----------------------------------------------------------------------------------------------------------

def test_a_folder_is_made_0700_with_the_folders_above_it(tmp_path):
    path = ensure_private_dir(str(tmp_path / "a" / "b" / "leases"), PLACE)
    assert path == str(tmp_path / "a" / "b" / "leases") and mode(path) == 0o700
    assert ensure_private_dir(path, PLACE) == path  # there now: judged, and fine


def test_an_existing_folder_of_yours_readable_by_others_is_used(tmp_path):
    (tmp_path / "reports").mkdir(mode=0o755)
    os.chmod(tmp_path / "reports", 0o755)
    assert ensure_private_dir(str(tmp_path / "reports"), PLACE) == str(tmp_path / "reports")
    assert mode(tmp_path / "reports") == 0o755  # left as the user made it


def test_a_folder_others_can_write_in_is_refused_and_nothing_is_written(tmp_path):
    loose = tmp_path / "leases"
    loose.mkdir()
    os.chmod(loose, 0o777)
    for call in (lambda: ensure_private_dir(str(loose), PLACE), lambda: open_private_file(str(loose / "x.lease"), PLACE),
                 lambda: write_private_file(str(loose / "r.json"), "{}", PLACE), lambda: append_private_line(str(loose / "e"), "{}", PLACE),
                 lambda: read_private_file(str(loose / "r.json"), PLACE)):
        with pytest.raises(LocalFileError) as info:
            call()
        assert "Refusing the lease directory %s" % loose in str(info.value) and "mode 0777" in str(info.value)
        assert "chmod go-w %s" % loose in str(info.value)
    assert list(loose.iterdir()) == []


def test_a_linked_folder_is_refused_and_its_target_untouched(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    (tmp_path / "leases").symlink_to(target)
    with pytest.raises(LocalFileError, match="it is a symbolic link"):
        ensure_private_dir(str(tmp_path / "leases"), PLACE)
    with pytest.raises(LocalFileError, match="it is a symbolic link"):
        write_private_file(str(tmp_path / "leases" / "report.json"), "{}", PLACE)
    assert list(target.iterdir()) == []


def test_a_missing_folder_not_to_be_made_and_an_unmakeable_one_say_what_to_do(tmp_path):
    with pytest.raises(LocalFileError, match="it does not exist. Create it"):
        ensure_private_dir(str(tmp_path / "nope"), PLACE, create=False)
    (tmp_path / "file").write_text("")
    with pytest.raises(LocalFileError) as info:
        ensure_private_dir(str(tmp_path / "file" / "leases"), PLACE)
    assert "Could not create the lease directory" in str(info.value) and "ENTRA_SYNC_LEASE_DIR" in str(info.value)
    assert issubclass(LocalFileError, EntraSyncError)


@needs_root
def test_a_folder_another_user_made_is_refused_and_nothing_is_written(tmp_path):
    theirs = tmp_path / "entra_sync_leases-0"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, NOBODY, NOBODY)
    with pytest.raises(LocalFileError) as info:
        open_private_file(str(theirs / "job.lease"), PLACE)
    assert "(owner nobody (uid 65534), mode 0700): it belongs to another user, not to you (root (uid 0))" in str(info.value)
    assert list(theirs.iterdir()) == []
    assert not usable_dir(str(theirs)) and usable_dir(str(tmp_path))


# ---- files ------------------------------------------------------------------------------------------------------------

def test_files_are_made_0600_written_whole_appended_and_read(tmp_path):
    path = str(tmp_path / "out" / "report.json")
    write_private_file(path, "one\n", PLACE)
    assert mode(tmp_path / "out") == 0o700 and mode(path) == 0o600 and read_private_file(path, PLACE) == "one\n"
    write_private_file(path, "two\n", PLACE)
    assert read_private_file(path, PLACE) == "two\n" and os.listdir(tmp_path / "out") == ["report.json"]  # no temporary left
    append_private_line(str(tmp_path / "out" / "e.jsonl"), '{"a": 1}', PLACE)
    append_private_line(str(tmp_path / "out" / "e.jsonl"), '{"a": 2}\n', PLACE)
    assert (tmp_path / "out" / "e.jsonl").read_text() == '{"a": 1}\n{"a": 2}\n' and mode(tmp_path / "out" / "e.jsonl") == 0o600
    with open_private_file(str(tmp_path / "out" / "x.lease"), PLACE) as handle:
        handle.write("1.5\n")
    assert mode(tmp_path / "out" / "x.lease") == 0o600
    assert read_private_file(str(tmp_path / "none" / "x"), PLACE) is None and read_private_file(str(tmp_path / "out" / "x"), PLACE) is None


def test_a_linked_file_is_never_followed(tmp_path):
    folder = tmp_path / "leases"
    folder.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    for name in ("x.lease", "report.json", "e.jsonl"):
        (folder / name).symlink_to(victim)
    (folder / "dangling").symlink_to(tmp_path / "made-through-the-link")
    calls = [lambda: open_private_file(str(folder / "x.lease"), PLACE), lambda: write_private_file(str(folder / "report.json"), "x", PLACE),
             lambda: append_private_line(str(folder / "e.jsonl"), "x", PLACE), lambda: read_private_file(str(folder / "x.lease"), PLACE),
             lambda: open_private_file(str(folder / "dangling"), PLACE), lambda: check_private_file(str(folder / "e.jsonl"), PLACE)]
    for call in calls:
        with pytest.raises(LocalFileError, match="Refusing the lease file .* it is a symbolic link"):
            call()
    assert victim.read_text() == "keep\n" and not (tmp_path / "made-through-the-link").exists()


def test_a_file_others_can_change_or_read_a_secret_of_is_refused(tmp_path):
    (tmp_path / "r.json").write_text("{}")
    os.chmod(tmp_path / "r.json", 0o666)
    with pytest.raises(LocalFileError, match="other users can change it"):
        write_private_file(str(tmp_path / "r.json"), "x", PLACE)
    (tmp_path / "cache.json").write_text("{}")
    os.chmod(tmp_path / "cache.json", 0o644)
    with pytest.raises(LocalFileError, match=r"mode 0644\): it can be read or changed by others, and it holds refresh tokens"):
        read_private_file(str(tmp_path / "cache.json"), SECRET)
    assert (tmp_path / "r.json").read_text() == "{}"


def test_a_fifo_in_a_files_place_is_refused_without_waiting(tmp_path):
    os.mkfifo(tmp_path / "x.lease", 0o600)
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(pytest.raises(LocalFileError, read_private_file, str(tmp_path / "x.lease"), PLACE)))
    thread.start()
    thread.join(10)
    assert outcome and "it is not a regular file" in str(outcome[0].value)


@needs_root
def test_a_file_another_user_owns_is_refused_and_left_as_it_is(tmp_path):
    theirs = tmp_path / "x.lease"
    theirs.write_text("")
    os.chmod(theirs, 0o644)
    os.chown(theirs, NOBODY, NOBODY)
    for call in (lambda: open_private_file(str(theirs), PLACE), lambda: append_private_line(str(theirs), "x", PLACE),
                 lambda: write_private_file(str(theirs), "x", PLACE), lambda: check_private_file(str(theirs), PLACE)):
        with pytest.raises(LocalFileError, match=r"\(owner nobody \(uid 65534\), mode 0644\): it belongs to another user"):
            call()
    assert theirs.read_text() == "" and os.stat(theirs).st_uid == NOBODY
