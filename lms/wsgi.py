"""WSGI entry point for production servers: `gunicorn --preload lms.wsgi:app` (what `lms serve` runs).

The content catalog is rendered here, once, before gunicorn forks its workers, so no worker
pays for it on a user's request and the workers share the rendered pages.
"""

import gc

from lms.app import create_app
from lms.content.services import get_catalog

app = create_app()
with app.app_context():
    get_catalog()
# Everything loaded so far lives for the life of the process: keep it out of the garbage
# collector's scans (and out of copy-on-write page faults after the fork).
gc.freeze()
