"""WSGI entry point for production servers: `gunicorn --preload lms.wsgi:app` (what `lms serve` runs).

The content catalog is rendered and the sandbox tickets are loaded here, once, before gunicorn
forks its workers, so no worker pays for them on a user's request and the workers share them.
"""

import gc

from lms.app import create_app
from lms.content.services import get_catalog
from lms.sandbox.core.services import get_tickets

app = create_app()
with app.app_context():
    get_catalog()
    get_tickets()
# Everything loaded so far lives for the life of the process: keep it out of the garbage
# collector's scans (and out of copy-on-write page faults after the fork).
gc.freeze()
