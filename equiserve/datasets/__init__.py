"""Bundled datasets: the synthetic demo city (:mod:`.demo`)."""
