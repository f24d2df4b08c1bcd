# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One base class for every error of the collection, so callers catch one name."""

import pytest

from ansible_collections.entra.sync.plugins.module_utils._exceptions import (
    AuthError,
    CloudError,
    EntraSyncError,
    GraphError,
    InputError,
    OptionError,
)


@pytest.mark.parametrize("error", [InputError, OptionError, CloudError, AuthError, GraphError])
def test_every_error_is_an_entra_sync_error(error):
    assert issubclass(error, EntraSyncError)


def test_bad_input_is_a_value_error_at_every_level():
    for error in (InputError, OptionError, CloudError):
        assert issubclass(error, ValueError)
    assert issubclass(CloudError, OptionError) and issubclass(OptionError, InputError)


def test_every_error_answers_the_graph_questions():
    plain = AuthError("no credential")
    assert (plain.status, plain.code, plain.request_id, plain.outcome_unknown) == (None, "", "", False)
    lost = GraphError("no answer", status=None, outcome_unknown=True)
    assert lost.outcome_unknown and str(lost) == "no answer"
    refused = GraphError("refused", status=403, code="Authorization_RequestDenied", request_id="r-1")
    assert (refused.status, refused.code, refused.request_id, refused.outcome_unknown) == (403, "Authorization_RequestDenied", "r-1", False)
