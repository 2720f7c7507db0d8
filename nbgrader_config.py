"""nbgrader settings for the course: solutions/ is the source, course/ the release."""
import os

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "gans-for-medicine"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# Parallel grading jobs share this file: wait up to a minute for a lock rather than fail.
c.CourseDirectory.db_url = ("sqlite:///" + os.path.join(os.path.dirname(os.path.abspath(__file__)), "gradebook.db")
                            + "?timeout=60")
# Helpers and data live in the installed `utils` package, never beside the notebooks.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "build", "*.pt"]

# nbgrader's default of 30 s per cell kills real training. The longest cell of a full-mode
# notebook stays under 10 minutes on 2 CPU cores; FAST-mode grading can lower it with
# COURSE_CELL_TIMEOUT so that an infinite loop is cut sooner.
c.Execute.timeout = int(os.environ.get("COURSE_CELL_TIMEOUT", "600"))
c.Execute.interrupt_on_timeout = True
# After a cell's reply, its last output may lag on a busy machine (parallel grading jobs):
# nbclient's 4 s wait for it failed honest submissions there; 30 s costs nothing otherwise.
c.Execute.iopub_timeout = 30

# A student who deletes a test cell does not escape it: autograde puts it back and runs it.
c.OverwriteCells.add_missing_cells = True

# nbgrader's feedback would show hidden tests and their tracebacks; redact both.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "utils.grading_hooks.RemoveHiddenTestErrors",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
