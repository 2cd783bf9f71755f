"""acquisition package."""
