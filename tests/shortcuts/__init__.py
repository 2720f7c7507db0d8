"""Hostile submissions, one module per notebook (DESIGN §6a).

Each module defines ``NOTEBOOK`` (the assignment name) and, for a solution cell id, what a
student looking for a shortcut would submit instead and the ids of the test cells that must
then give no points:

* ``SHORTCUTS``: the exercise answered by a call of the course's or a library's reference
  implementation (every autograded exercise of the notebook needs one);
* ``PATCHED`` (optional): a plausible wrong answer plus code that rebinds what the tests rely
  on (``utils.checks`` helpers, numpy, torch, math, scikit-learn, builtins).

``tests/test_shortcuts.py`` grades each kind as one submission per notebook.
"""
