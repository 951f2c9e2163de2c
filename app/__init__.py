"""Sluice: a Postgres-native multi-tenant ETL platform for engineering data."""

__version__ = "0.1.0"
