"""Use cases that send: dispatch, the send pipeline, delivery reports, reconcile, resend."""
