import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evdms.settings")
application = get_wsgi_application()
# Every URLconf and view module imported now, as a web server process starts, not by its
# first request: that one paid ~1.7 s of imports (a real-time OCPI authorisation after
# each deploy or worker restart waited for the whole site's views).
get_resolver().url_patterns  # noqa: B018
