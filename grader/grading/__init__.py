"""The grading core: one grading run (engine), what a check works with (context, registry, compare,
references), what it produces (results), the exercises and their packs, the limits, and reading
the student's file (submission, notebook_reader)."""
