"""`python -m grading`: the instructor's command line."""

import sys

from grading.cli import main

sys.exit(main())
