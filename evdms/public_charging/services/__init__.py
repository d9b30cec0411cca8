"""Every write of public charging: tokens (``tokens``)."""
