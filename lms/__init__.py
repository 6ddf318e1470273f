"""Pharmacy informatics academy: a Flask learning platform for pharmacy technicians."""

from lms.app import create_app

__all__ = ["create_app"]
