"""Proof per serial: the signed JSON record, the PDF certificate, labels, and where they go."""
