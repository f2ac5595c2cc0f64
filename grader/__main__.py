"""`python -m grader` is `cnn-grade`."""

from .cli import main

main()
