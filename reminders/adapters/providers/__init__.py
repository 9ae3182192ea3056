"""Providers behind small ports: Twilio SMS and voice, SMTP, the local outbox, the rate limit."""
