"""An enrollment's intake: commands, field checks, contact details, caregiver, procedure time."""
