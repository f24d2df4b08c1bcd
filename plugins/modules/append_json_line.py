#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: append_json_line
short_description: Append one record as a JSON line to a file that only its owner can use
description:
  - Appends O(record) as one line of JSON (sorted keys) to the file O(path), the way the C(entra.sync.escalate) playbook
    records each escalation of the self-heal rulebook.
  - The file is made with mode C(0600) when missing, in a directory made with mode C(0700) when missing. An existing
    directory is used only when it is not a symbolic link, belongs to the user the task runs as and nobody else can write
    in it (a group whose only member is the owner counts as the owner); an existing file only when it is a regular file
    (never followed through a symbolic link), of that user and writable by nobody else. Anything else fails with a message
    that names the path, its owner and mode, and what to do, and nothing is written.
version_added: 0.1.0
author:
  - entra.sync maintainers (@entra-sync)
options:
  path:
    description: The file to append to, for example C(~/entra_sync_escalations.jsonl).
    type: path
    required: true
  record:
    description: The record, written as one line of JSON.
    type: dict
    required: true
attributes:
  check_mode:
    support: full
    description: Checks the directory and the file that are already there, says that a line would be added, and writes nothing.
  diff_mode:
    support: none
    description: No diff is returned.
notes:
  - Each call appends a line, so the task always reports a change.
seealso:
  - module: entra.sync.fleet_report_files
"""

EXAMPLES = r"""
- name: Record an escalation
  entra.sync.append_json_line:
    path: ~/entra_sync_escalations.jsonl
    record:
      job_id: scim.0123456789abcdef0123456789abcdef
      reason: the quarantine needs a person
"""

RETURN = r"""
path:
  description: The absolute path of the file.
  returned: always
  type: str
  sample: /home/ops/entra_sync_escalations.jsonl
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.entra.sync.plugins.module_utils._controller.private_files import Place, append_private_line, check_private_file
from ansible_collections.entra.sync.plugins.module_utils._exceptions import LocalFileError

PLACE = Place("the directory of the file", "the file")


def main():
    module = AnsibleModule(argument_spec={"path": {"type": "path", "required": True}, "record": {"type": "dict", "required": True}},
                           supports_check_mode=True)
    path = os.path.abspath(module.params["path"])
    try:
        if module.check_mode:
            check_private_file(path, PLACE)
        else:
            append_private_line(path, json.dumps(module.params["record"], sort_keys=True), PLACE)
    except LocalFileError as exc:
        module.fail_json(msg=str(exc), path=path)
    module.exit_json(changed=True, path=path)


if __name__ == "__main__":
    main()
