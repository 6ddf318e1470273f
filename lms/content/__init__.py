"""Learning modules: load Markdown content, render it safely, serve catalog and lesson pages."""
