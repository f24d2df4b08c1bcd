# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every error the collection raises, under one base class.

EntraSyncError
├── InputError     bad user input, found before any request (a ValueError)
│   └── OptionError    a connection option that cannot work
│       └── CloudError     a cloud name or endpoint the collection cannot use
├── AuthError      sign-in failed or cannot be attempted
├── GraphError     a Graph call failed (status, code, request_id, outcome_unknown)
└── LocalFileError a folder or file the collection keeps on the controller is not this user's alone (or cannot be made)

Every message says what to do about it and never holds a secret or a token. The attributes that GraphError sets
have defaults on the base class, so a caller can judge any of them alike: ``outcome_unknown`` is true only when a
request may have been processed although no answer says so.
"""


class EntraSyncError(Exception):
    """The base of every error this collection raises."""

    status = None
    code = ""
    request_id = ""
    outcome_unknown = False


class InputError(EntraSyncError, ValueError):
    """Bad user input, found before any request; the message says what to fix."""


class OptionError(InputError):
    """A connection option that cannot work; the message names the option and what to do."""


class CloudError(OptionError):
    """A cloud name or endpoint the collection cannot use; the message says what to do."""


class AuthError(EntraSyncError):
    """Sign-in failed or cannot be attempted; the message says what to fix and never holds a secret."""

    # True when the same sign-in may well succeed later (the host could not be reached, or was busy): the self-heal
    # source goes on. A GraphError needs no such flag: its status says it.
    transient = False


class GraphError(EntraSyncError):
    """A Graph call that failed. ``outcome_unknown`` means the request may have been processed."""

    def __init__(self, message, status=None, code="", request_id="", outcome_unknown=False):
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id
        self.outcome_unknown = outcome_unknown


class LocalFileError(EntraSyncError):
    """A folder or file the collection keeps on the controller that it must not use (another user's, writable by others,
    a symbolic link) or cannot create; the message names the path, its owner and mode, and what to do."""
