"""Lifecycles as small state machines: an outbound message, an enrollment, a check-in, an escalation."""
