"""The shipped profiles. They install as package data, harness.profiles.shipped (see setup.py)."""
