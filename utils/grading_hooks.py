"""nbgrader preprocessors that keep hidden tests hidden in the feedback students receive.

nbgrader's feedback is the autograded notebook rendered as HTML, and that notebook holds
the hidden tests (autograde restores them to run them) and their tracebacks. nbgrader's
own ``ClearHiddenTests`` removes the hidden code; ``RemoveHiddenTestErrors`` then replaces
the traceback of any test cell that had hidden tests by one line that names the property the
cell checks (its visible ``# Property: ...`` comment) and gives nothing else away.
"""
from __future__ import annotations

import re

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
PROPERTY = re.compile(r"^#\s*Property:\s*(.+?)\s*$", re.MULTILINE)


class RemoveHiddenTestErrors(NbGraderPreprocessor):
    """Redact error outputs of test cells that contain hidden tests (run before ClearHiddenTests)."""

    message = Unicode(
        "A test in this cell failed. Hidden tests are not shown: re-read the task, check your "
        "function on the cases it describes, and run the visible tests again."
    ).tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        if cell.cell_type == "code" and HIDDEN_BEGIN in cell.source:
            visible = cell.source.split(HIDDEN_BEGIN, 1)[0]
            named = PROPERTY.search(visible)
            message = (f"Failed: {named.group(1)}. " if named else "") + self.message
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["evalue"] = message
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {message}"]
        return cell, resources
