# Copyright: entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/tools/ee_check.py finds each way the execution environment metadata or build context can be wrong.

`make ee` runs it on what ansible-builder really wrote; these tests feed it broken inputs, with no ansible-builder.
"""

import importlib.util
import io
import json
import os
import shutil
import tarfile

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
_SPEC = importlib.util.spec_from_file_location("ee_check", os.path.join(ROOT, "tests", "tools", "ee_check.py"))
ee_check = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(ee_check)

REQUIREMENTS = "requests>=2.31\nmsal>=1.29\ncryptography>=3.4\n"
EXPECTED = {"requests": ">=2.31", "msal": ">=1.29", "cryptography": ">=3.4"}
INTROSPECT = """# Dependency data for /somewhere
---
python:
- 'requests>=2.31  # from collection entra.sync'
- 'msal>=1.29  # from collection entra.sync'
- 'cryptography>=3.4  # from collection entra.sync'
system: []
"""
# The lines of an ansible-builder 3 Containerfile that the check looks for, in the order ansible-builder writes them.
CONTAINERFILE = """ARG EE_BASE_IMAGE="centos:stream9"
ARG PYCMD="/usr/bin/python3.11"
ARG PYPKG="python3.11"
ARG ANSIBLE_INSTALL_REFS="ansible-core>=2.17,<2.20 ansible-runner>=2.4"
FROM $EE_BASE_IMAGE AS base
RUN $PYCMD -m pip install --no-cache-dir $ANSIBLE_INSTALL_REFS
FROM base AS galaxy
COPY _build /build
WORKDIR /build
RUN ANSIBLE_GALAXY_DISABLE_GPG_VERIFY=1 ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml \
--collections-path "/usr/share/ansible/collections"
FROM base AS builder
COPY --from=galaxy /usr/share/ansible /usr/share/ansible
RUN $PYCMD /output/scripts/introspect.py introspect --write-bindep=/tmp/src/bindep.txt --write-pip=/tmp/src/requirements.txt
RUN /output/scripts/assemble
FROM base AS final
RUN /output/scripts/check_ansible $PYCMD
COPY --from=galaxy /usr/share/ansible /usr/share/ansible
COPY --from=builder /output/ /output/
RUN /output/scripts/install-from-bindep && rm -rf /output/wheels
""".replace("\\\n", "")


def test_the_repository_metadata_is_consistent():
    expected, problems = ee_check.check_metadata(ROOT)
    assert problems == []
    assert set(expected) >= set(ee_check.NEEDED)


@pytest.fixture
def root(tmp_path):
    (tmp_path / "meta").mkdir()
    (tmp_path / "meta" / "execution-environment.yml").write_text("version: 3\ndependencies:\n  python: meta/ee-requirements.txt\n")
    (tmp_path / "requirements.txt").write_text("# runtime\n" + REQUIREMENTS)
    (tmp_path / "meta" / "ee-requirements.txt").write_text(REQUIREMENTS)
    return tmp_path


def test_metadata_ok(root):
    assert ee_check.check_metadata(str(root)) == (EXPECTED, [])


def test_metadata_missing_package(root):
    text = REQUIREMENTS.replace("cryptography>=3.4\n", "")
    (root / "meta" / "ee-requirements.txt").write_text(text)
    (root / "requirements.txt").write_text(text)
    problems = ee_check.check_metadata(str(root))[1]
    assert any("does not list cryptography" in problem for problem in problems)


def test_metadata_files_differ(root):
    (root / "meta" / "ee-requirements.txt").write_text(REQUIREMENTS.replace("msal>=1.29", "msal>=1.20"))
    problems = ee_check.check_metadata(str(root))[1]
    assert len(problems) == 1 and "differ" in problems[0]


def test_metadata_without_lower_bound(root):
    for name in ("requirements.txt", "meta/ee-requirements.txt"):
        (root / name).write_text(REQUIREMENTS.replace("msal>=1.29", "msal"))
    problems = ee_check.check_metadata(str(root))[1]
    assert any("msal without a lower bound" in problem for problem in problems)


def test_metadata_points_elsewhere(root):
    (root / "meta" / "execution-environment.yml").write_text("version: 3\ndependencies:\n  python: requirements.txt\n")
    problems = ee_check.check_metadata(str(root))[1]
    assert any("dependencies.python" in problem for problem in problems)


def test_parse_requirements_reports_bad_and_duplicate_lines():
    found, problems = ee_check.parse_requirements("msal>=1.29\nMSAL>=1.30\nnot a requirement!\n", "x.txt")
    assert found == {"msal": ">=1.30"}
    assert len(problems) == 2


def test_introspect_ok():
    assert ee_check.check_introspect_output(INTROSPECT, EXPECTED, "out") == []


@pytest.mark.parametrize(
    "broken, words",
    [
        (INTROSPECT.replace("- 'msal>=1.29  # from collection entra.sync'\n", ""), "python requirements are"),
        (INTROSPECT.replace("from collection entra.sync'\nsystem", "from collection other.one'\nsystem"), "does not come from"),
        (INTROSPECT.replace("system: []", "system:\n- 'gcc [platform:rpm]  # from collection entra.sync'"), "system packages"),
        ("# Dependency data for /somewhere\n---\n{}\n", "python requirements are"),
        ("python: [unclosed\n", "not YAML"),
    ],
)
def test_introspect_broken(broken, words):
    problems = ee_check.check_introspect_output(broken, EXPECTED, "out")
    assert any(words in problem for problem in problems), problems


def test_containerfile_ok():
    assert ee_check.check_containerfile(CONTAINERFILE, "Containerfile") == []


@pytest.mark.parametrize("line", [line for line in CONTAINERFILE.splitlines() if not line.startswith(("ARG EE_BASE", "ARG PYCMD", "WORKDIR"))])
def test_containerfile_without_a_step(line):
    broken = CONTAINERFILE.replace(line + "\n", "")
    assert ee_check.check_containerfile(broken, "Containerfile") != []


def test_containerfile_without_runner():
    broken = CONTAINERFILE.replace(" ansible-runner>=2.4", "")
    problems = ee_check.check_containerfile(broken, "Containerfile")
    assert len(problems) == 1 and "ansible-runner" in problems[0]


def _tarball(path, namespace="entra", name="sync", files=("meta/execution-environment.yml", "meta/ee-requirements.txt", "meta/runtime.yml")):
    manifest = json.dumps({"collection_info": {"namespace": namespace, "name": name, "version": "1.0.0"}}).encode()
    with tarfile.open(path, "w:gz") as archive:
        for member, data in [("MANIFEST.json", manifest)] + [(rel, b"") for rel in files]:
            info = tarfile.TarInfo(member)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return str(path)


@pytest.fixture
def context(tmp_path):
    build = tmp_path / "_build"
    (build / "collections").mkdir(parents=True)
    (build / "requirements.yml").write_text("collections:\n- name: /build/collections/entra-sync.tar.gz\n  type: file\n")
    _tarball(build / "collections" / "entra-sync.tar.gz")
    return tmp_path


def test_context_ok(context):
    tarballs, problems = ee_check.collection_tarballs(str(context))
    assert problems == [] and [os.path.basename(path) for path in tarballs] == ["entra-sync.tar.gz"]
    assert ee_check.check_tarball(tarballs[0]) == []


def test_context_without_the_tarball(context):
    os.remove(context / "_build" / "collections" / "entra-sync.tar.gz")
    problems = ee_check.collection_tarballs(str(context))[1]
    assert len(problems) == 1 and "the context has no" in problems[0]


def test_context_path_outside_build(context):
    (context / "_build" / "requirements.yml").write_text("collections:\n- name: /tmp/entra-sync.tar.gz\n  type: file\n")
    problems = ee_check.collection_tarballs(str(context))[1]
    assert len(problems) == 1 and "not under /build/" in problems[0]


def test_context_without_galaxy_requirements(context):
    shutil.rmtree(context / "_build")
    problems = ee_check.collection_tarballs(str(context))[1]
    assert len(problems) == 1 and "missing" in problems[0]


def test_tarball_of_another_collection(tmp_path):
    problems = ee_check.check_tarball(_tarball(tmp_path / "x.tar.gz", namespace="other"))
    assert len(problems) == 1 and "is collection other.sync" in problems[0]


def test_tarball_without_ee_metadata(tmp_path):
    problems = ee_check.check_tarball(_tarball(tmp_path / "x.tar.gz", files=("meta/runtime.yml",)))
    assert len(problems) == 2 and all("build_ignore" in problem for problem in problems)


def test_not_a_tarball(tmp_path):
    path = tmp_path / "x.tar.gz"
    path.write_bytes(b"not gzip")
    assert "not a collection tarball" in ee_check.check_tarball(str(path))[0]


def test_install_refs():
    assert ee_check.install_refs(CONTAINERFILE) == ("3.11", ["ansible-core>=2.17,<2.20", "ansible-runner>=2.4"])
    assert ee_check.install_refs("FROM scratch\n") == (None, [])
