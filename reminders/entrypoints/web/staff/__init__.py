"""The staff app's pages, by concept."""
