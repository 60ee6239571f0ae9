"""nbgrader configuration: solutions/ is the instructor source, exercises/ the student copy."""

from pathlib import Path

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "generative-models"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# Keep the gradebook out of the repository; pass --db sqlite:///PATH to use another one.
c.CourseDirectory.db_url = "sqlite:///" + str(
    Path.home() / ".local" / "share" / "genmodels-course" / "gradebook.db")

# Student stubs: a clear failure instead of a silent `pass`, so an untouched task scores 0.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Autograding runs every notebook in test mode; checks never depend on long training.
c.Execute.timeout = 120  # seconds per cell
