"""Use cases for what comes back: replies, answers, red flags, on-call paging, check-ins, inbox."""
