"""A student's course folder beyond one run: `list` and `all` (course), the score cache, `--watch`."""
