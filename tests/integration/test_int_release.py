"""The release and the tarball, on a copy of the checkout (never the checkout itself).

- build_ignore: a copy seeded with the clutter a working tree collects (caches, the venv, build, docs, test and
  benchmark output, an old tarball) builds a tarball whose member list holds none of it, and still holds the collection.
- `make release VERSION=x.y.z` (tests/tools/release.sh): refuses a bad or backward version before changing anything;
  a good one sets galaxy.yml's version, writes the changelog from the fragments, and builds a tarball of that version
  with its CHANGELOG.rst; releasing the same version again is refused.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN_DIR = os.path.dirname(sys.executable)
RELEASE_SH = os.path.join("tests", "tools", "release.sh")

# What a working tree collects and the tarball must not carry (path -> content).
CLUTTER = {
    ".venv/bin/python": "",
    ".build/docs/html/index.html": "<html></html>",
    ".build/collections/ansible_collections/entra/sync/MANIFEST.json": "{}",
    ".pytest_cache/v/cache/lastfailed": "{}",
    "tests/unit/.pytest_cache/README.md": "cache",
    ".hypothesis/examples/abc": "x",
    ".ruff_cache/0.1/123": "x",
    "plugins/modules/__pycache__/sync_job.cpython-311.pyc": "x",
    "plugins/module_utils/stale.pyc": "x",
    "tests/output/junit/result.xml": "<x/>",
    "tests/bench/results/latest.json": "{}",
    "tests/bench/results/run-2.json": "{}",
    "docs/_build/html/index.html": "<html></html>",
    "context/Containerfile": "FROM x",
    "out/report.json": "{}",
    "entra-sync-0.0.1.tar.gz": "not a tarball",
    ".ansible/collections/x": "x",
    ".cache/pip/x": "x",
}
# What the tarball must carry.
EXPECTED = [
    "MANIFEST.json", "FILES.json", "README.md", "LICENSE", "meta/runtime.yml", "meta/execution-environment.yml",
    "plugins/modules/sync_job_restart.py", "plugins/inventory/sync_jobs.py", "plugins/doc_fragments/graph.py",
    "roles/graph_auth/meta/argument_specs.yml", "playbooks/restart_jobs.yml", "extensions/awx/entra_sync_credential_type.yml",
    "docs/getting-started.md", "changelogs/changelog.yaml", "changelogs/config.yaml",
]
FORBIDDEN = re.compile(
    r"(^|/)(\.venv|\.build|\.git|\.ansible|\.cache|\.pytest_cache|\.hypothesis|\.ruff_cache|__pycache__|tests/output|"
    r"tests/bench/results)(/|$)|^(out|docs/_build|context)/|\.pyc$|\.tar\.gz$"
)


def _env():
    env = dict(os.environ)
    env["PATH"] = BIN_DIR + os.pathsep + env.get("PATH", "")
    env["ENTRA_SYNC_VENV"] = os.path.dirname(BIN_DIR)  # the copy has no .venv: release.sh uses this interpreter's
    env.pop("VERSION", None)
    env.pop("RELEASE_DIR", None)
    return env


def _git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@localhost", *args], cwd=cwd, check=True,
                   capture_output=True, text=True)


def _listed_files():
    """The files git lists in the checkout (committed and new unignored ones), as sanity.sh copies them."""
    out = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                         capture_output=True).stdout.decode()
    return [path for path in out.split("\0") if path and os.path.lexists(os.path.join(ROOT, path))
            and not path.startswith((".venv/", ".build/", ".ansible/", "tests/output/"))]


@pytest.fixture(name="checkout")
def fixture_checkout(tmp_path):
    """A copy of the checkout, as its own git repository with everything committed."""
    dest = tmp_path / "sync"
    for path in _listed_files():
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.join(ROOT, path), target, follow_symlinks=False)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A", ".")
    _git(dest, "commit", "-q", "-m", "copy")
    return dest


def _members(tarball):
    with tarfile.open(tarball) as archive:
        return sorted(member.name for member in archive.getmembers() if member.isfile())


def _digest(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _release(checkout, version, **env):
    return subprocess.run(["bash", RELEASE_SH, version], cwd=checkout, env={**_env(), **env}, capture_output=True,
                          text=True, timeout=300, check=False)


def test_build_ignore_keeps_clutter_out_of_the_tarball(checkout, tmp_path):
    for path, content in CLUTTER.items():
        target = checkout / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    dist = tmp_path / "dist"
    proc = subprocess.run([os.path.join(BIN_DIR, "ansible-galaxy"), "collection", "build", "--output-path", str(dist),
                           str(checkout)], env=_env(), capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (tarball,) = list(dist.glob("entra-sync-*.tar.gz"))
    members = _members(tarball)
    leaked = [member for member in members if FORBIDDEN.search(member)]
    assert not leaked, "build_ignore lets these into the tarball: %s" % leaked
    for clutter in CLUTTER:
        assert clutter not in members
    missing = [member for member in EXPECTED if member not in members]
    assert not missing, "the tarball lacks %s" % missing
    # Every module, plugin and role file of the checkout is in it.
    for path in _listed_files():
        if path.startswith(("plugins/", "roles/", "playbooks/")) and not path.endswith(".pyc"):
            assert path in members, path
    assert os.path.getsize(tarball) < 5 * 1024 * 1024


def test_release_refuses_bad_versions_before_changing_anything(checkout):
    before = {name: _digest(checkout / name) for name in ("galaxy.yml", "changelogs/changelog.yaml")}
    for version, expected in [
        ("1.2", "is not a semantic version"),
        ("v1.2.0", "is not a semantic version"),
        ("0.0.1", "is below galaxy.yml's version"),
        ("", "give the version"),
    ]:
        proc = _release(checkout, version)
        assert proc.returncode != 0, proc.stdout
        assert expected in proc.stderr, (version, proc.stderr)
    assert before == {name: _digest(checkout / name) for name in before}
    assert not (checkout / ".build" / "release").exists()


def test_release_refuses_uncommitted_changelog_changes(checkout):
    (checkout / "changelogs" / "fragments" / "wip.yml").write_text("---\nbugfixes:\n  - sync_job - a fix.\n")
    proc = _release(checkout, "99.0.0")
    assert proc.returncode != 0
    assert "uncommitted changes" in proc.stderr
    assert "version: 99.0.0" not in (checkout / "galaxy.yml").read_text()


def test_release_builds_changelog_and_tarball(checkout):
    root_state = {name: _digest(os.path.join(ROOT, name)) for name in ("galaxy.yml", "changelogs/changelog.yaml")}
    with open(checkout / "galaxy.yml", encoding="utf-8") as handle:
        current = yaml.safe_load(handle)["version"]
    major, minor, _patch = (int(part) for part in str(current).split("-", maxsplit=1)[0].split("."))
    version = "%d.%d.0" % (major, minor + 1)
    fragments = sorted(path.name for path in (checkout / "changelogs" / "fragments").glob("*.yml"))
    assert fragments, "no changelog fragment to release"

    proc = _release(checkout, version)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    with open(checkout / "galaxy.yml", encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["version"] == version
    with open(checkout / "changelogs" / "changelog.yaml", encoding="utf-8") as handle:
        release = yaml.safe_load(handle)["releases"][version]
    assert release["changes"]["release_summary"] == "Release %s of the entra.sync collection." % version
    assert set(release["fragments"]) >= set(fragments)
    assert not list((checkout / "changelogs" / "fragments").glob("*.yml")), "the fragments stay after the release"
    changelog = (checkout / "CHANGELOG.rst").read_text()
    assert "\nv%s\n" % version in changelog

    tarball = checkout / ".build" / "release" / ("entra-sync-%s.tar.gz" % version)
    members = _members(tarball)
    assert "CHANGELOG.rst" in members
    assert not [member for member in members if FORBIDDEN.search(member)]
    listed = (checkout / ".build" / "release" / ("entra-sync-%s.tar.gz.contents.txt" % version)).read_text().split()
    assert [member for member in listed if not member.endswith("/")] == members
    with tarfile.open(tarball) as archive:
        manifest = json.load(archive.extractfile("MANIFEST.json"))
        assert manifest["collection_info"]["version"] == version
        assert "\nv%s\n" % version in archive.extractfile("CHANGELOG.rst").read().decode()
    assert "git tag %s" % version in proc.stdout

    # The same version again: refused, nothing changed.
    _git(checkout, "add", "-A", ".")
    _git(checkout, "commit", "-q", "-m", "Release %s" % version)
    (checkout / "changelogs" / "fragments" / "fix.yml").write_text("---\nbugfixes:\n  - sync_job - a fix.\n")
    _git(checkout, "add", "-A", ".")
    _git(checkout, "commit", "-q", "-m", "a fix")
    again = _release(checkout, version)
    assert again.returncode != 0
    assert "is not above the last release" in again.stderr

    # The checkout the tests run from is untouched.
    assert root_state == {name: _digest(os.path.join(ROOT, name)) for name in root_state}
