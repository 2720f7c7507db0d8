"""Library-shortcut submissions, one module per notebook (DESIGN §6a).

Each module defines ``NOTEBOOK`` (the assignment name) and ``SHORTCUTS``: for a solution cell
id, the source a student looking for a shortcut would submit instead (a call of the course's
or a library's reference implementation), and the ids of the test cells that must then give
no points. ``tests/test_shortcuts.py`` grades every notebook's shortcut submission.
"""
