"""Planning: what a drive supports (``probe``), which method it gets (``policy``), and the one
table of methods (``catalogue``). ``Planner`` is the only part that does I/O."""
