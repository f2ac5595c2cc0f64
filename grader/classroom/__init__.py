"""A whole class: `batch` (its pool and workers, the gradebook) and the Gradescope bundle with the
autograder that runs inside it."""
