"""Quizzes: question banks, attempts, grading, practice exams, GIFT interchange and item statistics."""
