"""Use cases for staff: accounts, sign-in, tokens, audit, outcomes, timelines and monitoring."""
