"""Outgoing messages of every kind: their lifecycle, the send decision and retry rules."""
