"""Learner progress: lessons read (and, later, completions, evaluations and credits)."""
