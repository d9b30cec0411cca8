"""evdms: the EV Driver Management Solution."""
