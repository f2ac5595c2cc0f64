"""The instructor's commands: `build` (markers, notebook_writer, release) and `verify` (mutants,
misconceptions, verify_text)."""
