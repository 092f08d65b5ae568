"""The result schema. It installs as package data, harness.report.schema (see setup.py)."""
