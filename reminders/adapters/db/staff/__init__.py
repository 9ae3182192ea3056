"""Staff accounts, sessions, the audit log, CSV imports and outcome queries in the database."""
