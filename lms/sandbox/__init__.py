"""Pharmacy sandbox: a simulated pharmacy world for hands-on informatics practice."""
