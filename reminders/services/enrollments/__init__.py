"""Use cases that start, change and end an enrollment, through every intake door."""
