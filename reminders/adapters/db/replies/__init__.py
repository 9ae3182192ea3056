"""Inbound texts, check-ins and escalations in the database."""
