"""What patients send back: keywords, answers, danger words, escalations and on-call."""
