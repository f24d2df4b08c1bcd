# Copyright: entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a release must not carry: sanity ignores, and bugfix entries for code no release ever shipped."""

import glob
import os

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def _yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_every_sanity_ignore_file_is_empty():
    paths = sorted(glob.glob(os.path.join(ROOT, "tests", "sanity", "ignore-*.txt")))
    assert paths, "tests/sanity/ignore-<version>.txt files are expected, one per supported ansible-core release"
    with_entries = {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            entries = [line for line in handle.read().splitlines() if line.strip()]
        if entries:
            with_entries[os.path.basename(path)] = entries
    assert not with_entries, "fix the code instead of ignoring sanity tests: %s" % with_entries


def test_no_bugfix_fragment_before_the_first_release():
    releases = _yaml(os.path.join(ROOT, "changelogs", "changelog.yaml")).get("releases") or {}
    if releases:
        return  # after the first release a bugfix fragment fixes released code
    fragments = sorted(glob.glob(os.path.join(ROOT, "changelogs", "fragments", "*.yml")))
    assert fragments
    with_bugfixes = [os.path.basename(path) for path in fragments if (_yaml(path) or {}).get("bugfixes")]
    assert not with_bugfixes, (
        "no release has been made (changelogs/changelog.yaml): a fix of unreleased code goes into the fragment of the "
        "feature it fixes, or under trivial; found bugfixes in %s" % with_bugfixes
    )
