# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's token cache for delegated sign-in: where it lives, when it is safe to use, reading and writing it.

It holds a refresh token, a secret as good as the person's session: it is kept only in a file that its owner alone can
read (0600), written atomically. The checks are pure functions over what os.stat says, so each is unit-tested.
"""

import json
import os
import stat

from ansible_collections.entra.sync.plugins.module_utils._exceptions import OptionError

CACHE_DIR_NAME = "entra-sync"
CACHE_FILE_NAME = "msal_token_cache.json"


def default_cache_path(environ=None, home=None):
    """$XDG_CACHE_HOME/entra-sync/msal_token_cache.json, else ~/.cache/entra-sync/msal_token_cache.json."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CACHE_HOME") or os.path.join(home or os.path.expanduser("~"), ".cache")
    return os.path.join(base, CACHE_DIR_NAME, CACHE_FILE_NAME)


def location_problem(path, is_default, parent_exists, parent_writable, is_dir):
    """Why the cache cannot live at `path` (a message that says what to do), or None (pure)."""
    parent = os.path.dirname(path) or "."
    if is_dir:
        return "token_cache_path %r is a directory: give the path of a file in it, e.g. %s." % (path, os.path.join(path, CACHE_FILE_NAME))
    if not parent_exists:
        if is_default:
            return None  # created (0700) on the first save
        return ("token_cache_path %r cannot be used: the directory %s does not exist. Create it (mode 0700) or choose another "
                "path (env ENTRA_SYNC_TOKEN_CACHE)." % (path, parent))
    if not parent_writable:
        return ("token_cache_path %r cannot be used: the directory %s is not writable by this user. Choose a path in a directory "
                "you own (env ENTRA_SYNC_TOKEN_CACHE)." % (path, parent))
    return None


def file_problem(path, mode, owner_uid, my_uid):
    """Why an existing cache file must not be used (others could read or change it), or None (pure)."""
    if owner_uid != my_uid:
        return ("The token cache %s belongs to another user (uid %s): it holds a sign-in, so only its owner may use it. Choose "
                "another token_cache_path, or delete the file." % (path, owner_uid))
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return ("The token cache %s can be read or changed by others (mode %s): it holds a refresh token, so it is refused. "
                "Run `chmod 600 %s` (or delete it and sign in again)." % (path, oct(mode & 0o777)[2:].rjust(4, "0"), path))
    return None


def is_cache_text(text):
    """True when `text` looks like an MSAL token cache (a JSON object); an empty file counts as an empty cache."""
    if not text.strip():
        return True
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


class TokenCacheFile:
    """The cache file at one path: check() before anything is sent, load() into MSAL, save() after a sign-in."""

    def __init__(self, path, is_default):
        self.path = path
        self.is_default = is_default
        self.warnings = []

    @classmethod
    def from_settings(cls, settings, environ=None):
        if settings.token_cache_path:
            return cls(os.path.abspath(os.path.expanduser(settings.token_cache_path)), False)
        return cls(default_cache_path(environ), True)

    def check(self):
        """Refuse a location or a file that is unsafe or unusable (OptionError says what to do); no request is sent."""
        parent = os.path.dirname(self.path) or "."
        problem = location_problem(self.path, self.is_default, os.path.isdir(parent), os.access(parent, os.W_OK | os.X_OK),
                                   os.path.isdir(self.path))
        if problem is None and os.path.exists(self.path):
            info = os.stat(self.path)
            problem = file_problem(self.path, info.st_mode, info.st_uid, os.geteuid())
        if problem:
            raise OptionError(problem)

    def load(self, cache):
        """Fill an msal.SerializableTokenCache from the file; a corrupt file is reset (with a warning), not trusted."""
        try:
            with open(self.path, encoding="utf-8") as handle:
                text = handle.read()
        except FileNotFoundError:
            return cache
        except (OSError, UnicodeDecodeError):
            text = None
        if text is None or not is_cache_text(text):
            self.warnings.append(
                "The token cache %s could not be read as a token cache, so it was reset: you are asked to sign in again, and "
                "the file is replaced after the sign-in." % self.path
            )
            return cache
        if text.strip():
            cache.deserialize(text)
        return cache

    def save(self, cache):
        """Write the cache if it changed: a new file of mode 0600, renamed over the old one."""
        if not cache.has_state_changed:
            return
        parent = os.path.dirname(self.path) or "."
        if self.is_default:
            os.makedirs(parent, mode=0o700, exist_ok=True)
        temp = "%s.%d.tmp" % (self.path, os.getpid())
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(cache.serialize())
            os.chmod(temp, 0o600)
            os.replace(temp, self.path)
        except OSError:
            if os.path.exists(temp):
                os.remove(temp)
            raise
        cache.has_state_changed = False
