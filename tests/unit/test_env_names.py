# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The environment variable names are spelled in options.py ENV_FALLBACKS; every other copy is held equal to it.

The role's defaults and the inventory plugin's env lists have their own tests (tests/unit/roles, tests/unit/plugins/
inventory). Here: the texts that name the variables for a reader (the modules' doc fragment, the role's argument
specs), and the playbooks, which name none: they leave each option to the role and the modules.
"""

import os
import re

import pytest
import yaml

from ansible_collections.entra.sync.plugins.doc_fragments.graph import ModuleDocFragment
from ansible_collections.entra.sync.plugins.module_utils._settings.options import ENV_FALLBACKS

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
# GitHub's OIDC request variables (E(ACTIONS_ID_TOKEN_REQUEST_URL), ...) are named beside the fallbacks: not fallbacks.
ENV_NAME = re.compile(r"E\(((?!ACTIONS_)[A-Z_]+)\)")
ENV_LOOKUP = re.compile(r"lookup\(\s*['\"](?:ansible\.builtin\.)?env['\"]")
ANY_ENV_NAME = re.compile(r"\b(?:%s)\b" % "|".join(sorted({name for names in ENV_FALLBACKS.values() for name in names})))


def _text(options):
    description = options.get("description") or []
    return " ".join(description if isinstance(description, list) else [description])


@pytest.mark.parametrize("name", sorted(ENV_FALLBACKS))
def test_doc_fragment_names_the_env_vars_in_order(name):
    options = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert ENV_NAME.findall(_text(options[name])) == ENV_FALLBACKS[name], name


@pytest.mark.parametrize("name", sorted(set(ENV_FALLBACKS) - {"access_token"}))
def test_role_argument_specs_name_the_env_vars_in_order(name):
    with open(os.path.join(ROOT, "roles", "graph_auth", "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    assert ENV_NAME.findall(_text(options["graph_auth_" + name])) == ENV_FALLBACKS[name], name


def _playbook_files():
    for folder, _dirs, files in os.walk(os.path.join(ROOT, "playbooks")):
        for file_name in sorted(files):
            if file_name.endswith((".yml", ".yaml", ".j2")):
                yield os.path.join(folder, file_name)


@pytest.mark.parametrize("path", sorted(_playbook_files()), ids=os.path.basename)
def test_playbooks_spell_no_env_var(path):
    with open(path, encoding="utf-8") as handle:
        text = "\n".join(line for line in handle if not line.lstrip().startswith("#"))
    assert not ENV_LOOKUP.search(text), "%s reads the environment: leave the option to the role or the module" % path
    assert not ANY_ENV_NAME.findall(text), "%s spells %s: ENV_FALLBACKS holds the names" % (path, ANY_ENV_NAME.findall(text))
