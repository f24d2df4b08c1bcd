# Copyright: entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fenced code blocks of a Markdown guide, by section, so that tests run or compare what a guide shows.

fenced_blocks(text, heading) returns the (language, body) of each ``` block between the heading whose title is
`heading` (any level) and the next heading of the same or a higher level.
"""

from __future__ import annotations

import re

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_FENCE = re.compile(r"^(\s*)```(\S*)\s*$")


def section_lines(text: str, heading: str) -> list[str]:
    """The lines under `heading`, up to the next heading of its level or above; ValueError when it is absent."""
    lines = text.splitlines()
    level = None
    found = []
    in_fence = False
    for line in lines:
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if level is None:
            if match and match.group(2) == heading:
                level = len(match.group(1))
            continue
        if match and len(match.group(1)) <= level:
            break
        found.append(line)
    if level is None:
        raise ValueError("no heading %r in the guide" % heading)
    return found


def fenced_blocks(text: str, heading: str) -> list[tuple[str, str]]:
    """The (language, body) of each fenced block of the section, in order; an indented fence is unindented."""
    blocks = []
    current = None
    indent = ""
    for line in section_lines(text, heading):
        fence = _FENCE.match(line)
        if current is None:
            if fence:
                indent, language, current = fence.group(1), fence.group(2), []
            continue
        if fence:
            blocks.append((language, "\n".join(current) + "\n"))
            current = None
            continue
        current.append(line[len(indent):] if line.startswith(indent) else line)
    return blocks
