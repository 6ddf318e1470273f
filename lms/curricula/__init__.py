"""Curricula: learning items assigned to cohorts or trainees with due dates, and the dashboards."""
