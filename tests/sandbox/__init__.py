"""Tests for the pharmacy sandbox."""
