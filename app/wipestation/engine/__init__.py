"""The job engine: runs a plan per drive in parallel workers, verifies, and emits progress."""
