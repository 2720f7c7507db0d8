"""Feedback redaction: a failed hidden test names the property its cell checks, nothing more."""
import nbformat

from utils.grading_hooks import RemoveHiddenTestErrors


def _failed_cell(source):
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="secret input [2, -1]",
                                           traceback=["hidden line: expect_close(d_loss([2, -1]), 1.7)"])]
    return cell


def test_the_failed_property_is_named_and_the_hidden_detail_is_not():
    cell = _failed_cell("# Property: gradient penalty: one alpha per sample\nexpect_true(True, 'x')\n"
                        "### BEGIN HIDDEN TESTS\nexpect_close(d_loss([2, -1]), 1.7)\n### END HIDDEN TESTS")
    cell, _ = RemoveHiddenTestErrors().preprocess_cell(cell, {}, 0)
    shown = cell.outputs[0]["evalue"] + "".join(cell.outputs[0]["traceback"])
    assert "Failed: gradient penalty: one alpha per sample." in shown and "Hidden tests are not shown" in shown
    assert "secret" not in shown and "d_loss([2, -1])" not in shown


def test_a_property_written_inside_the_hidden_part_stays_hidden():
    cell = _failed_cell("x = 1\n### BEGIN HIDDEN TESTS\n# Property: hidden name\nassert False\n### END HIDDEN TESTS")
    cell, _ = RemoveHiddenTestErrors().preprocess_cell(cell, {}, 0)
    assert "hidden name" not in cell.outputs[0]["evalue"] and "Failed:" not in cell.outputs[0]["evalue"]
