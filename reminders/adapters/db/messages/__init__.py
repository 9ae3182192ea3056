"""Outbound messages in the database: the one writer, its statements and its reads."""
