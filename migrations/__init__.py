"""Sluice's database migrations (0001-0005) and the runner behind `sluice migrate`."""
