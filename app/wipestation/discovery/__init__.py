"""Discovery: which drives are attached, who they are, and which must never be touched."""
