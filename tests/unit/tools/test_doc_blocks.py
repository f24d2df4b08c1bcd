# Copyright: entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/tools/doc_blocks.py finds the fenced blocks of one section of a guide, and only those."""

import importlib.util
import os

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
_SPEC = importlib.util.spec_from_file_location("doc_blocks", os.path.join(ROOT, "tests", "tools", "doc_blocks.py"))
doc_blocks = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(doc_blocks)

GUIDE = """# Guide

## One

```console
echo one
# not a heading
```

### One, deeper

1. A step:

   ```yaml
   key: value
   ```

## Two

```text
two
```
"""


def test_blocks_of_a_section_include_its_subsections_and_stop_at_the_next_section():
    assert doc_blocks.fenced_blocks(GUIDE, "One") == [("console", "echo one\n# not a heading\n"), ("yaml", "key: value\n")]
    assert doc_blocks.fenced_blocks(GUIDE, "One, deeper") == [("yaml", "key: value\n")]
    assert doc_blocks.fenced_blocks(GUIDE, "Two") == [("text", "two\n")]


def test_a_missing_heading_is_an_error():
    with pytest.raises(ValueError, match="no heading 'Three'"):
        doc_blocks.fenced_blocks(GUIDE, "Three")
