"""Chain of custody: lots, the customer's manifest, and reconciling signed records against it.

``manifest`` reads the customer's CSV, ``lot`` matches drive and destruction records to its
entries, ``sources`` finds and verifies records on report sticks (trust anchors and record
chains live in ``reports/trust.py`` and ``reports/chain.py``), ``lot_record``/``lot_pdf`` write
the signed lot record and its certificate. At a station, ``desk`` is the lot every front end
shares (scans, counts), ``close`` closes it, and ``resume`` reads what earlier boots left on the
report stick.
"""
