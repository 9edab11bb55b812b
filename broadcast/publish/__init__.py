"""Publishing: the podcast feed, delivery targets and the delivery log."""
