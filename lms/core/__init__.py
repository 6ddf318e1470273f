"""Site-wide pages: role home pages, health check, error pages and security headers."""
