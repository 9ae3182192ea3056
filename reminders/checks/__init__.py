"""Content tooling, not use cases: template, journey, fact, keyword and reading-level checks."""
