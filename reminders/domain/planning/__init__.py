"""Care plans become dated messages: plans, times, quiet hours and the SMS cap."""
