"""Staff-side rules: accounts, sessions, the audit chain, search keys and length limits."""
