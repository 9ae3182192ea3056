"""The `reminders` command line."""
