# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every folder and file the collection keeps on the controller, made for its user alone.

The job leases, the token cache, the escalation file, the report folders, the event source's state file: on a
multi-user machine (AAP execution nodes, jump hosts, shared AWX controllers) another local user must not be able to
make them first, share them or point them elsewhere. So the rule OpenSSH applies to ~/.ssh:

- a folder is made 0700, a file 0600; a whole file is written as a temporary file renamed over it;
- an existing folder is used only when it is a real folder (not a symbolic link), owned by this user and writable by
  nobody else (a group whose only member is the owner counts as the owner: the user private groups of Debian, Ubuntu
  and Fedora, as Debian's OpenSSH allows);
- a file is opened with O_NOFOLLOW and judged by the same rule on what was opened (fstat); a file that holds a secret
  must not be readable by anybody else either;
- a file is used only inside a folder that passes the rule. The folders above that one are not judged: a folder the
  user names (entra_sync_report_dir, token_cache_path) sits where the user chose.

`judge` is the one decision (pure, a table in the unit tests); the rest is I/O around it. Every refusal is a
LocalFileError that names the path, its owner and mode, and what to do.
"""

import errno
import grp
import os
import pwd
import stat
import tempfile
from dataclasses import dataclass

from ansible_collections.entra.sync.plugins.module_utils._exceptions import LocalFileError

DIR_MODE = 0o700
FILE_MODE = 0o600
# Never through a symbolic link, never blocked by a FIFO put in the file's place, never inherited by a child process.
OPEN_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


@dataclass(frozen=True)
class Place:
    """What a folder and its files are, for the messages. setting: the option or variable that moves them ("" when the
    caller's path is the only name). secret: what secret the file holds ("" for none): then nobody else may read it."""

    folder: str
    file: str
    setting: str = ""
    secret: str = ""


@dataclass(frozen=True)
class Found:
    """What lstat (or fstat) says of a path: owner, st_mode (file type included), whether it is a symbolic link, and
    whether its group has no member but its owner."""

    owner_uid: int
    mode: int
    is_symlink: bool = False
    group_alone: bool = False


def _who(uid, names):
    name = (names or {}).get(uid)
    return "%s (uid %d)" % (name, uid) if name else "uid %d" % uid


def _elsewhere(place):
    """What moves the path (no full stop)."""
    return "choose another path with %s" % place.setting if place.setting else "choose another path"


def judge(place, path, kind, found, my_uid, names=None):
    """Why `path` (kind "directory" or "file") must not be used, as a message that says what to do; None when it may be.

    Pure. names: {uid: user name}, for the message only.
    """
    label = place.folder if kind == "directory" else place.file
    head = "Refusing %s %s (owner %s, mode %04o): " % (label, path, _who(found.owner_uid, names), stat.S_IMODE(found.mode))
    if found.is_symlink:
        return head + "it is a symbolic link, which another user could point anywhere. Remove the link, or %s." % _elsewhere(place)
    if not (stat.S_ISDIR if kind == "directory" else stat.S_ISREG)(found.mode):
        return head + "it is not a %s. Move it away, or %s." % ("directory" if kind == "directory" else "regular file", _elsewhere(place))
    if found.owner_uid != my_uid:
        return head + ("it belongs to another user, not to you (%s): that user could read, hold or change what the "
                       "collection keeps there. Have it removed (by its owner or root), or %s." % (_who(my_uid, names), _elsewhere(place)))
    if kind == "file" and place.secret and found.mode & (stat.S_IRWXG | stat.S_IRWXO):
        return head + ("it can be read or changed by others, and it holds %s. Run `chmod 600 %s` (or delete it), or %s."
                       % (place.secret, path, _elsewhere(place)))
    if found.mode & (stat.S_IWOTH | (0 if found.group_alone else stat.S_IWGRP)):
        return head + ("other users can %s. Run `chmod go-w %s`, or %s."
                       % ("write in it" if kind == "directory" else "change it", path, _elsewhere(place)))
    return None


# ---- I/O around judge ------------------------------------------------------------------------------------------------

def group_alone(gid, owner_uid):
    """True when the owner is the group's only member, as primary group and as listed member (Debian's OpenSSH rule)."""
    try:
        members = grp.getgrgid(gid).gr_mem
        owner = pwd.getpwuid(owner_uid).pw_name
    except KeyError:
        return False
    primary = [entry.pw_uid for entry in pwd.getpwall() if entry.pw_gid == gid]
    if any(uid != owner_uid for uid in primary) or any(member != owner for member in members):
        return False
    return bool(primary or members)


def _names(*uids):
    names = {}
    for uid in uids:
        try:
            names[uid] = pwd.getpwuid(uid).pw_name
        except KeyError:
            pass
    return names


def _problem(place, path, kind, info):
    """judge() over an os.stat_result. The group database is read only for a group-writable path, the user names only
    for a refusal: a slice of 200 leases costs 200 lstat/fstat calls and nothing more."""
    alone = bool(info.st_mode & stat.S_IWGRP) and group_alone(info.st_gid, info.st_uid)
    found, me = Found(info.st_uid, info.st_mode, stat.S_ISLNK(info.st_mode), alone), os.geteuid()
    if judge(place, path, kind, found, me) is None:
        return None
    return judge(place, path, kind, found, me, _names(info.st_uid, me))


def _check(place, path, kind, info):
    problem = _problem(place, path, kind, info)
    if problem:
        raise LocalFileError(problem)


def _failed(place, path, kind, doing, exc):
    label = place.folder if kind == "directory" else place.file
    return LocalFileError("Could not %s %s %s: %s. Fix that, or %s." % (doing, label, path, exc.strerror or type(exc).__name__,
                                                                        _elsewhere(place)))


def _absolute(path):
    return os.path.abspath(os.path.expanduser(path))


def usable_dir(path):
    """True when `path` is a folder that passes the rule (for picking a default, such as $XDG_RUNTIME_DIR); never raises."""
    try:
        info = os.lstat(path)
    except (OSError, ValueError):
        return False
    return _problem(Place("the directory", "the file"), path, "directory", info) is None


def check_existing(path, place, kind):
    """Judge `path` when it exists (LocalFileError when it must not be used); False when it does not exist."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise _failed(place, path, kind, "read", exc) from None
    _check(place, path, kind, info)
    return True


def check_private_file(path, place):
    """Judge the file at `path` and its folder, those of the two that exist (LocalFileError); nothing is made or opened."""
    path = _absolute(path)
    if check_existing(os.path.dirname(path), place, "directory"):
        check_existing(path, place, "file")


def ensure_private_dir(path, place, create=True):
    """The absolute path of a folder that passes the rule: made 0700 when missing (and `create`; the missing folders
    above it as os.makedirs makes them), else judged. LocalFileError when it fails the rule, is missing (not `create`)
    or cannot be made."""
    path = _absolute(path)
    if create:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        except OSError as exc:
            raise _failed(place, path, "directory", "create", exc) from None
        try:
            os.mkdir(path, DIR_MODE)
            return path  # made now by this process: this user's, and 0700 at most
        except FileExistsError:
            pass
        except OSError as exc:
            raise _failed(place, path, "directory", "create", exc) from None
    if not check_existing(path, place, "directory"):
        raise LocalFileError("Refusing %s %s: it does not exist. Create it (mode 0700), or %s." % (place.folder, path, _elsewhere(place)))
    return path


def _open_checked(path, place, flags):
    """A descriptor of the file at `path`, opened without following a link and judged on what was opened. OSError as is
    (FileNotFoundError included), LocalFileError for a link or a file that fails the rule."""
    try:
        descriptor = os.open(path, flags | OPEN_FLAGS, FILE_MODE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a symbolic link: say so, with its owner
            check_existing(path, place, "file")
        raise
    try:
        _check(place, path, "file", os.fstat(descriptor))
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def open_private_file(path, place, create_dir=True):
    """The file at `path` opened for reading and writing ("r+", text), made 0600 when missing, in a folder that passes
    the rule (made when missing and `create_dir`). For files held open, such as a lease (flock) or a state file."""
    path = _absolute(path)
    ensure_private_dir(os.path.dirname(path), place, create_dir)
    return open_in_private_dir(path, place)


def open_in_private_dir(path, place):
    """open_private_file for an absolute `path` in a folder the caller has just had ensure_private_dir judge: the folder
    is not judged again (a slice of 200 leases costs no lstat of their folder per lease)."""
    try:
        descriptor = _open_checked(path, place, os.O_RDWR | os.O_CREAT)
    except OSError as exc:
        raise _failed(place, path, "file", "open", exc) from None
    return os.fdopen(descriptor, "r+", encoding="utf-8")


def read_private_file(path, place):
    """The text of the file at `path`, or None when it (or its folder) does not exist; its folder and the file must pass
    the rule (LocalFileError). UnicodeDecodeError for a file that is not UTF-8."""
    path = _absolute(path)
    if not check_existing(os.path.dirname(path), place, "directory"):
        return None
    try:
        descriptor = _open_checked(path, place, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _failed(place, path, "file", "read", exc) from None
    with os.fdopen(descriptor, encoding="utf-8") as handle:
        return handle.read()


def write_private_file(path, text, place, create_dir=True):
    """Replace the file at `path` whole with `text`: a 0600 temporary file in the same folder, synced, renamed over it,
    so a reader never sees half a file and nothing is written through a link. The folder must pass the rule (made when
    missing and `create_dir`), and so must the file it replaces."""
    path = _absolute(path)
    directory = ensure_private_dir(os.path.dirname(path), place, create_dir)
    check_existing(path, place, "file")
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    except OSError as exc:
        raise _failed(place, path, "file", "write", exc) from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        _remove(temporary)
        raise _failed(place, path, "file", "write", exc) from None
    except BaseException:
        _remove(temporary)
        raise


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def append_private_line(path, line, place, create_dir=True):
    """Append one line (a newline added when missing) to the file at `path`, made 0600 when missing, in a folder that
    passes the rule (made when missing and `create_dir`). One write with O_APPEND: lines of concurrent writers never mix."""
    path = _absolute(path)
    ensure_private_dir(os.path.dirname(path), place, create_dir)
    data = (line if line.endswith("\n") else line + "\n").encode("utf-8")
    try:
        descriptor = _open_checked(path, place, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    except OSError as exc:
        raise _failed(place, path, "file", "open", exc) from None
    try:
        while data:
            data = data[os.write(descriptor, data):]
    except OSError as exc:
        raise _failed(place, path, "file", "write", exc) from None
    finally:
        os.close(descriptor)
