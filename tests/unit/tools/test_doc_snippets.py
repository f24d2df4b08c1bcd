# Copyright: entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Guide snippets that copy a shipped file stay equal to it (`make ee` checks the file itself)."""

import importlib.util
import os

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
_SPEC = importlib.util.spec_from_file_location("doc_blocks", os.path.join(ROOT, "tests", "tools", "doc_blocks.py"))
doc_blocks = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(doc_blocks)


def _read(*path):
    with open(os.path.join(ROOT, *path), encoding="utf-8") as handle:
        return handle.read()


def test_awx_guide_shows_the_shipped_execution_environment_definition():
    blocks = [body for language, body in doc_blocks.fenced_blocks(_read("docs", "awx.md"), "2. An execution environment")
              if language == "yaml"]
    assert len(blocks) == 1
    assert yaml.safe_load(blocks[0]) == yaml.safe_load(_read("extensions", "ee", "execution-environment.yml"))


def test_awx_guide_stages_the_tarball_under_the_name_the_definition_copies():
    definition = yaml.safe_load(_read("extensions", "ee", "execution-environment.yml"))
    (build_file,) = definition["additional_build_files"]
    (collection,) = definition["dependencies"]["galaxy"]["collections"]
    # ansible-builder copies src into the context's _build/<dest>, which the image sees as /build/<dest>.
    assert collection["name"] == "/build/%s/%s" % (build_file["dest"], build_file["src"])
    (console,) = [body for language, body in doc_blocks.fenced_blocks(_read("docs", "awx.md"), "2. An execution environment")
                  if language == "console"]
    assert "/tmp/ee/%s" % build_file["src"] in console


def test_graph_auth_readme_example_is_the_first_example_of_the_role_doc():
    spec = yaml.safe_load(_read("roles", "graph_auth", "meta", "argument_specs.yml"))["argument_specs"]["main"]
    (readme_example,) = [body for language, body in doc_blocks.fenced_blocks(_read("roles", "graph_auth", "README.md"), "Example")
                         if language == "yaml"]
    role_doc_examples = yaml.safe_load(spec["examples"])
    assert yaml.safe_load(readme_example) == role_doc_examples[:1]
    assert all(play.get("hosts") == "localhost" for play in role_doc_examples)


def test_navigator_sample_runs_the_shipped_ee_with_the_sign_in_environment():
    from ansible_collections.entra.sync.plugins.module_utils._settings.options import ENV_FALLBACKS

    settings = yaml.safe_load(_read("extensions", "ee", "ansible-navigator.yml"))["ansible-navigator"]
    environment = settings["execution-environment"]
    assert environment["enabled"] is True
    # The tag extensions/ee/execution-environment.yml tells the reader to build.
    assert "-t %s" % environment["image"] in _read("extensions", "ee", "execution-environment.yml")
    passed = set(environment["environment-variables"]["pass"])
    read_by_the_collection = {name for names in ENV_FALLBACKS.values() for name in names}
    assert passed <= read_by_the_collection, passed - read_by_the_collection
    assert {"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH"} <= passed
