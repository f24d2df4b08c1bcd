# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's token cache for delegated sign-in: where it lives, when it is safe to use, reading and writing it.

It holds refresh tokens, secrets as good as the person's session: it is kept only in a file its owner alone can read
(0600), in a folder that is the owner's alone, written atomically (private_files.py judges both and writes the file).
"""

import json
import os

from ansible_collections.entra.sync.plugins.module_utils._controller.private_files import (
    Place,
    check_private_file,
    read_private_file,
    write_private_file,
)
from ansible_collections.entra.sync.plugins.module_utils._exceptions import OptionError

CACHE_DIR_NAME = "entra-sync"
CACHE_FILE_NAME = "msal_token_cache.json"
CACHE_PLACE = Place("the token cache's directory", "the token cache", "token_cache_path (env ENTRA_SYNC_TOKEN_CACHE)", secret="refresh tokens")


def default_cache_path(environ=None, home=None):
    """$XDG_CACHE_HOME/entra-sync/msal_token_cache.json, else ~/.cache/entra-sync/msal_token_cache.json."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CACHE_HOME") or os.path.join(home or os.path.expanduser("~"), ".cache")
    return os.path.join(base, CACHE_DIR_NAME, CACHE_FILE_NAME)


def location_problem(path, is_default, parent_exists, is_dir):
    """Why the cache cannot live at `path` (a message that says what to do), or None (pure). Whose the folder and the
    file are is private_files.judge's question."""
    parent = os.path.dirname(path) or "."
    if is_dir:
        return "token_cache_path %r is a directory: give the path of a file in it, e.g. %s." % (path, os.path.join(path, CACHE_FILE_NAME))
    if not parent_exists and not is_default:  # the default's folder is made (0700) on the first save
        return ("token_cache_path %r cannot be used: the directory %s does not exist. Create it (mode 0700) or choose another "
                "path (env ENTRA_SYNC_TOKEN_CACHE)." % (path, parent))
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
        """Refuse a location or a file that is unusable (OptionError) or not this user's alone (LocalFileError); no request
        is sent."""
        parent = os.path.dirname(self.path) or "."
        problem = location_problem(self.path, self.is_default, os.path.isdir(parent), os.path.isdir(self.path))
        if problem:
            raise OptionError(problem)
        check_private_file(self.path, CACHE_PLACE)

    def load(self, cache):
        """Fill an msal.SerializableTokenCache from the file; a corrupt file is reset (with a warning), not trusted."""
        try:
            text = read_private_file(self.path, CACHE_PLACE)
        except UnicodeDecodeError:
            text = False
        if text is None:
            return cache
        if text is False or not is_cache_text(text):
            self.warnings.append(
                "The token cache %s could not be read as a token cache, so it was reset: you are asked to sign in again, and "
                "the file is replaced after the sign-in." % self.path
            )
            return cache
        if text.strip():
            cache.deserialize(text)
        return cache

    def save(self, cache):
        """Write the cache if it changed: a new file of mode 0600, renamed over the old one (LocalFileError when it cannot)."""
        if not cache.has_state_changed:
            return
        write_private_file(self.path, cache.serialize(), CACHE_PLACE, create_dir=self.is_default)
        cache.has_state_changed = False
