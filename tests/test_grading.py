"""The grading pipeline against broken and hostile submissions, with the real nbgrader CLI.

Notebook 00 is the sample (cheapest to execute). Every hostile submission must be graded
without hanging and without credit, and must not stop the submissions after it.
"""
import copy
import csv
import json
import socket
import sqlite3
import subprocess
import sys

import nbformat
import pytest

from scripts import batch_grading, grading, sandbox
from conftest import REPO

pytestmark = pytest.mark.grading
NAME = "00-setup"
WRONG = "def class_proportions(labels, n_classes):\n    return [1.0 / n_classes] * n_classes\n"


def _solution():
    return nbformat.read(REPO / "solutions" / NAME / f"{NAME}.ipynb", as_version=4)


def _cells(notebook, kind):
    flag = {"solution": "solution", "test": "grade"}[kind]
    return [c for c in notebook.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get(flag)]


def _variant(edit):
    notebook = copy.deepcopy(_solution())
    edit(notebook)
    return notebook


def _set_solution(source):
    return lambda nb: setattr(_cells(nb, "solution")[0], "source", source)


def _delete_tests(solution_source=None):
    def edit(nb):
        if solution_source is not None:
            _cells(nb, "solution")[0].source = solution_source
        nb.cells = [c for c in nb.cells if c not in _cells(nb, "test")]
    return edit


def _edit_tests(nb):
    _cells(nb, "solution")[0].source = WRONG
    for cell in _cells(nb, "test"):
        cell.source = "pass  # tests removed by the student"


SUBMISSIONS = {
    "solution": _variant(lambda nb: None),
    "wrong": _variant(_set_solution(WRONG)),
    "infinite_loop": _variant(_set_solution("while True:\n    pass")),
    "kernel_crash": _variant(_set_solution("import os\nos._exit(1)")),
    "memory_bomb": _variant(_set_solution("hoard = []\nwhile True:\n    hoard.append(bytearray(10**8))")),
    "edited_tests": _variant(_edit_tests),
    "deleted_tests_wrong": _variant(_delete_tests(WRONG)),
    "deleted_tests_right": _variant(_delete_tests()),
    "rebinds_helpers": _variant(_set_solution(
        "import numpy, torch\nfrom utils import checks\n"
        "numpy.allclose = lambda *a, **k: True\ntorch.allclose = lambda *a, **k: True\n"
        "expect_close = lambda *a, **k: None\n" + WRONG)),
}
# Hostile submissions that attack the grader itself. Each prints what it managed, and defines
# the wrong function afterwards, so it scores zero. The course root is three folders up from
# the kernel's working folder (autograded/<student>/<assignment>/).
_ROOT = "import json, os, pathlib\nroot = pathlib.Path.cwd().parents[2]\n"
_ATTEMPT = (
    "def attempt(name, action):\n"
    "    try:\n        action()\n        report[name] = 'DONE'\n"
    "    except Exception as error:\n        report[name] = f'BLOCKED {type(error).__name__}'\n"
    "report = {}\n")
ATTACKS = {
    "snoop": _ROOT + (
        "stolen = []\n"
        "for pattern in ['solutions/*/*.ipynb', 'source/*/*.ipynb', 'submitted/*/*/*.ipynb', 'gradebook.db',\n"
        "                '../instructor-secret.txt', '/root/*', '/home/*/*']:\n"
        "    for path in root.glob(pattern) if not pattern.startswith('/') else pathlib.Path('/').glob(pattern[1:]):\n"
        "        try:\n            stolen.append(path.read_text(errors='replace'))\n"
        "        except OSError:\n            pass\n"
        "print('VISIBLE', json.dumps([sorted(os.listdir(root)), sorted(os.listdir(root / 'autograded'))]), flush=True)\n"
        "print('STOLEN', len(stolen), ''.join(stolen), flush=True)\n"),
    "vandal": _ROOT + _ATTEMPT + (
        "import sqlite3\n"
        "attempt('gradebook', lambda: sqlite3.connect(root / 'gradebook.db').execute('CREATE TABLE pwned (x)'))\n"
        "attempt('other_submission', lambda: (root / 'submitted/solution/00-setup/00-setup.ipynb').write_text('{}'))\n"
        "attempt('course_root', lambda: (root / 'PWNED').write_text('pwned'))\n"
        "attempt('solutions', lambda: (root / 'solutions/00-setup/PWNED').write_text('pwned'))\n"
        "print('ATTEMPTS', json.dumps(report), flush=True)\n"),
    "loopback": _ATTEMPT + (
        "import json, socket\n"
        "port = int(open('port.txt').read())\n"
        "attempt('loopback', lambda: socket.create_connection(('127.0.0.1', port), timeout=3))\n"
        "attempt('internet', lambda: socket.create_connection(('1.1.1.1', 53), timeout=3))\n"
        "print('ATTEMPTS', json.dumps(report), flush=True)\n"),
    "fork_bomb": (
        "import os, time\nforks = 0\n"
        "try:\n    while forks < 100000:\n"
        "        if os.fork() == 0:\n            time.sleep(600)\n            os._exit(0)\n"
        "        forks += 1\n"
        "except OSError as error:\n    print('FORKS STOPPED', forks, type(error).__name__, flush=True)\n"),
    "fill_disk": _ROOT + (
        "from ipykernel.connect import get_connection_file\nwritten = {}\n"
        "folders = {'workdir': os.getcwd(), 'tmp': '/tmp', 'shm': '/dev/shm', 'root': '/', 'course': str(root),\n"
        "           'ipc': os.path.dirname(get_connection_file())}\n"
        "for label, folder in folders.items():\n"
        "    size = 0\n"
        "    try:\n"
        "        with open(os.path.join(folder, 'filler'), 'wb') as handle:\n"
        "            while size < 2**31:  # 2 GB at most, should the limits fail\n"
        "                handle.write(b'x' * 2**20)\n                handle.flush()\n                size += 2**20\n"
        "    except OSError as error:\n        written[label] = [size >> 20, type(error).__name__]\n"
        "    else:\n        written[label] = [size >> 20, 'not stopped']\n"
        "print('WRITTEN', json.dumps(written), flush=True)\n"),
}
SUBMISSIONS.update({name: _variant(_set_solution(code + WRONG)) for name, code in ATTACKS.items()})
EXPECTED_SCORE = {"solution": 1.0, "deleted_tests_right": 1.0}
DISK_MB = 64


SECRET = "instructor's secret 7f3a"


@pytest.fixture(scope="module")
def listener():
    """A TCP server on the grader's loopback that no submission may reach."""
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    yield server
    server.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory, listener):
    root = grading.scratch_course(tmp_path_factory.mktemp("hostile") / "course", [NAME])
    (root.parent / "instructor-secret.txt").write_text(SECRET)  # stands for the instructor's home
    grading.release(root, [NAME])
    for student, notebook in SUBMISSIONS.items():
        folder = root / "submitted" / student / NAME
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{NAME}.ipynb")
    (root / "submitted" / "loopback" / NAME / "port.txt").write_text(str(listener.getsockname()[1]))
    malformed = root / "submitted" / "malformed" / NAME
    malformed.mkdir(parents=True)
    (malformed / f"{NAME}.ipynb").write_text('{"cells": [ this is not json')
    before = {p: p.read_bytes() for p in root.glob("submitted/*/*/*.ipynb")}
    pairs = grading.submissions(root)
    outcomes = grading.autograde_all(root, pairs, jobs=2, cell_timeout=15, memory_gb=3.0, disk_mb=DISK_MB)
    return root, {o.student: o for o in outcomes}, before


def _printed(root, student):
    """Everything the kernel printed while grading ``student`` (cell sources excluded: the
    graded notebook holds the restored hidden tests)."""
    notebook = nbformat.read(root / "autograded" / student / NAME / f"{NAME}.ipynb", as_version=4)
    return "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs)


def _reported(root, student, label):
    line = next(line for line in _printed(root, student).splitlines() if line.startswith(label + " "))
    return json.loads(line[len(label) + 1:])


def _score(root, student):
    return sum(c.score or 0 for c in grading.scores(root, NAME, student) if c.auto)


def test_every_submission_was_processed(graded):
    root, outcomes, _ = graded
    assert set(outcomes) == set(SUBMISSIONS) | {"malformed"}
    assert all(o.seconds < 180 for o in outcomes.values()), {s: o.seconds for s, o in outcomes.items()}


@pytest.mark.parametrize("student", sorted(SUBMISSIONS))
def test_hostile_submissions_get_no_credit(graded, student):
    root, outcomes, _ = graded
    expected = EXPECTED_SCORE.get(student, 0.0)
    if outcomes[student].status == "graded":
        assert _score(root, student) == expected
    else:
        assert expected == 0.0, f"{student} should have been graded: {outcomes[student].message}"


def test_crash_and_malformed_are_reported_not_fatal(graded):
    root, outcomes, _ = graded
    assert outcomes["kernel_crash"].status == "failed"
    assert "kernel died" in outcomes["kernel_crash"].message
    assert outcomes["malformed"].status == "failed" and "JSON" in outcomes["malformed"].message
    assert outcomes["solution"].status == "graded" and outcomes["infinite_loop"].status == "graded"


def test_grades_export_lists_every_submission(graded):
    root, outcomes, _ = graded
    rows = {r["student"]: r for r in csv.DictReader(open(grading.export_grades(root, list(outcomes.values()))))}
    assert set(rows) == set(outcomes)
    assert float(rows["solution"]["score"]) == 1.0
    assert rows["kernel_crash"]["status"] == "failed" and float(rows["kernel_crash"]["score"]) == 0.0


def test_regrading_with_force_keeps_the_gradebook_consistent(graded):
    root, _, _ = graded
    again = grading.autograde(root, NAME, "solution", cell_timeout=30)
    assert again.status == "graded" and _score(root, "solution") == 1.0
    from nbgrader.api import Gradebook

    with Gradebook(grading._db_url(root)) as gradebook:
        assert len(gradebook.find_assignment(NAME).submissions) == len(SUBMISSIONS) + 1


def test_feedback_does_not_reveal_hidden_tests(graded):
    root, _, _ = graded
    made = grading.feedback(root, [("wrong", NAME), ("solution", NAME)])
    assert len(made) == 2
    hidden = _cells(_solution(), "test")[0].source.split("### BEGIN HIDDEN TESTS")[1]
    secrets = ["BEGIN HIDDEN TESTS", "a torch tensor of labels", "trailing empty classes"]
    assert all(s in hidden for s in secrets[1:])
    for page in made:
        html = page.read_text()
        for secret in secrets:
            assert secret not in html, f"{page.name} reveals {secret!r}"
    assert "Hidden tests are not shown" in made[0].read_text()


def test_parallel_jobs_share_the_cpus(graded, monkeypatch):
    root, _, _ = graded
    # "wrong" was graded only by the parallel run ("solution" is regraded alone by another test).
    assert f"({grading.threads_per_job(2)} CPU threads)" in _printed(root, "wrong")
    monkeypatch.delenv("COURSE_THREADS", raising=False)
    monkeypatch.setattr("utils.runtime.usable_cpus", lambda: 8)
    assert [grading.threads_per_job(j) for j in (1, 2, 3, 16)] == [None, 4, 2, 1]
    monkeypatch.setenv("COURSE_THREADS", "3")
    assert grading.threads_per_job(4) is None  # the instructor's setting wins


def test_submission_cannot_read_hidden_tests_or_other_files(graded):
    root, _, _ = graded
    printed = _printed(root, "snoop")
    assert "STOLEN 0 " in printed
    assert _reported(root, "snoop", "VISIBLE") == [["autograded"], ["snoop"]]
    hidden = _cells(_solution(), "test")[0].source.split("### BEGIN HIDDEN TESTS")[1]
    assert "trailing empty classes" in hidden
    for secret in ("trailing empty classes", "BEGIN HIDDEN TESTS", SECRET):
        assert secret not in printed


def test_submission_cannot_write_gradebook_submissions_or_course_root(graded):
    root, _, before = graded
    report = _reported(root, "vandal", "ATTEMPTS")
    assert set(report) == {"gradebook", "other_submission", "course_root", "solutions"}
    assert all(outcome.startswith("BLOCKED") for outcome in report.values()), report
    assert not (root / "PWNED").exists() and not (root / "solutions" / NAME / "PWNED").exists()
    assert {p: p.read_bytes() for p in before} == before
    with sqlite3.connect(root / "gradebook.db") as gradebook:
        tables = {row[0] for row in gradebook.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "pwned" not in tables and "grade" in tables


def test_submission_cannot_reach_the_network(graded, listener):
    root, _, _ = graded
    assert _reported(root, "loopback", "ATTEMPTS") == {"loopback": "BLOCKED ConnectionRefusedError",
                                                       "internet": "BLOCKED OSError"}
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing ever connected to the grader's loopback


def test_fork_bomb_is_stopped_by_the_process_limit(graded):
    root, outcomes, _ = graded
    stopped = next(line for line in _printed(root, "fork_bomb").splitlines() if line.startswith("FORKS STOPPED"))
    assert 0 < int(stopped.split()[2]) < sandbox.Limits.processes
    assert outcomes["fork_bomb"].seconds < 120


def test_filling_the_disk_stops_at_the_sandbox_limits(graded):
    root, _, _ = graded
    written = _reported(root, "fill_disk", "WRITTEN")
    for folder, megabytes in (("workdir", DISK_MB), ("tmp", DISK_MB), ("shm", DISK_MB), ("ipc", 1)):
        assert written[folder][0] <= megabytes and written[folder][1] == "OSError", (folder, written[folder])
    for folder in ("root", "course"):  # read-only (or root's) in the sandbox
        assert written[folder] in ([0, "OSError"], [0, "PermissionError"]), (folder, written[folder])
    assert not list(root.rglob("filler"))  # the working copy never reaches the real disk


def test_grading_stops_when_the_sandbox_is_missing(graded, tmp_path, monkeypatch, capsys):
    root, _, _ = graded
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on it
    sandbox.check.cache_clear()
    try:
        with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap"):
            grading.autograde(root, NAME, "solution")
        assert grading.main(["autograde", "--student", "no-such-student"]) == 2
        assert "apt-get install bubblewrap" in capsys.readouterr().err
    finally:
        sandbox.check.cache_clear()


def test_unsandboxed_grading_needs_a_loud_opt_in(capsys):
    assert grading.main(["autograde", "--student", "no-such-student", "--unsafe-no-sandbox"]) == 0
    assert "UNSAFE: grading WITHOUT the sandbox" in capsys.readouterr().err
    make = ["make", "-n", "-o", ".venv", "autograde"]
    assert "--unsafe-no-sandbox" in subprocess.run([*make, "UNSAFE_NO_SANDBOX=1"], cwd=REPO, capture_output=True,
                                                   text=True, check=True).stdout
    assert "--unsafe-no-sandbox" not in subprocess.run(make, cwd=REPO, capture_output=True, text=True,
                                                       check=True).stdout


def test_grade_one_per_submission_then_merge_into_the_gradebook(tmp_path):
    """The at-scale path: each submission graded alone (as a batch task would), then merged."""
    notebooks = {"alice": tmp_path / "alice.ipynb", "bob": tmp_path / "bob.ipynb"}
    nbformat.write(SUBMISSIONS["solution"], notebooks["alice"])
    notebooks["bob"].write_text('{"cells": [ this is not json')
    results = tmp_path / "results"
    command = [sys.executable, "-m", "scripts.grading", "grade-one", "--student", "alice", "--assignment", NAME,
               "--notebook", str(notebooks["alice"]), "--out", str(results / "alice.json"), "--cell-timeout", "30"]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    batch_grading.grade_one("bob", NAME, notebooks["bob"], results / "bob.json", cell_timeout=30)
    assert json.loads((results / "alice.json").read_text())["score"] == 1.0

    root = grading.scratch_course(tmp_path / "course", [NAME])
    grading.release(root, [NAME])
    for student, notebook in notebooks.items():
        grading.submit(root, student, NAME, notebook)
    outcomes = batch_grading.merge(root, sorted(results.glob("*.json")))
    assert _score(root, "alice") == 1.0
    rows = {r["student"]: r for r in csv.DictReader(open(grading.export_grades(root, outcomes)))}
    assert (rows["alice"]["status"], float(rows["alice"]["score"])) == ("graded", 1.0)
    assert rows["bob"]["status"] == "failed" and "JSON" in rows["bob"]["message"]
    assert len(grading.feedback(root, [("alice", NAME), ("bob", NAME)])) == 1
