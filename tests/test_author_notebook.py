"""The draft format of scripts/author_notebook.py gives each kind of cell its nbgrader metadata."""
import pytest

from scripts.author_notebook import parse

DRAFT = """# %% [solution id=answer]
def f():
    ### BEGIN SOLUTION
    return 1
    ### END SOLUTION
# %% [readonly id=fixtures]
_helper = 2
# %% [tests id=test_f points=1]
# Property: f returns 1
assert f() == 1
"""


def test_each_kind_gets_its_metadata():
    solution, readonly, tests = [cell.metadata["nbgrader"] for cell in parse(DRAFT).cells]
    assert solution["solution"] and not solution["grade"] and not solution["locked"]
    assert readonly["locked"] and not readonly["grade"] and not readonly["solution"] and "points" not in readonly
    assert readonly["grade_id"] == "fixtures"
    assert tests["grade"] and tests["locked"] and tests["points"] == 1


def test_a_readonly_cell_needs_an_id():
    with pytest.raises(ValueError, match="needs id"):
        parse("# %% [readonly]\nx = 1\n")
