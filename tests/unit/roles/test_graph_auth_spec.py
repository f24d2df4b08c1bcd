# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The graph_auth role's inputs mirror the modules' shared options: same env defaults, secrets no_log, identifiers not."""

import os
import re

import pytest
import yaml

from ansible_collections.entra.sync.plugins.module_utils._settings.options import ENV_FALLBACKS, GRAPH_ARGSPEC, GRAPH_TOKEN_ARGSPEC

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "graph_auth")


def _load(*parts):
    with open(os.path.join(ROLE, *parts), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


SPEC = _load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
DEFAULTS = _load("defaults", "main.yml")
# Role inputs that are not shared module options (graph_token's own options, for device_code, are role inputs too).
ROLE_ONLY = {"graph_auth_min_valid_seconds", "graph_auth_run_once"} | {"graph_auth_" + name for name in GRAPH_TOKEN_ARGSPEC}
# Module options the role does not take: the role acquires a token, it is not given one; retries are per Graph call.
NOT_IN_ROLE = {"access_token", "max_retries"}


def test_every_module_option_has_a_role_input():
    options = {name[len("graph_auth_"):] for name in SPEC if name not in ROLE_ONLY}
    assert options == set(GRAPH_ARGSPEC) - NOT_IN_ROLE


@pytest.mark.parametrize("name", sorted(set(GRAPH_ARGSPEC) - NOT_IN_ROLE))
def test_secret_inputs_are_no_log_and_identifiers_are_not(name):
    assert bool(SPEC["graph_auth_" + name].get("no_log")) == bool(GRAPH_ARGSPEC[name].get("no_log")), name


@pytest.mark.parametrize("name", sorted(set(ENV_FALLBACKS) - NOT_IN_ROLE))
def test_defaults_read_the_same_env_vars_in_the_same_order(name):
    default = DEFAULTS["graph_auth_" + name]
    assert re.findall(r"lookup\('ansible\.builtin\.env', '([A-Z_]+)'\)", default) == ENV_FALLBACKS[name], default


def test_every_input_has_a_default_and_a_description():
    for name, spec in SPEC.items():
        assert name in DEFAULTS, name
        assert spec.get("description"), name
