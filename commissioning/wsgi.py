import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioning.settings")
application = get_wsgi_application()

from commissioning import jobs  # noqa: E402 - after Django is set up

jobs.warm_up()  # the broker's modules now, not in the first request that queues a job
