import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY as AUTH_SESSION_KEY
from django.utils.functional import SimpleLazyObject

SESSION_KEY = "current_partnership_id"


def _current_partnership(request):
    from commissioning.models import Partnership

    user = getattr(request, "user", None)
    pk = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if not pk or user is None or not user.is_authenticated:
        return None
    return Partnership.objects.restrict(user, "view").filter(pk=pk).first()


class CurrentPartnershipMiddleware:
    """``request.partnership``: the partnership chosen in the header, or None for all granted ones."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.partnership = SimpleLazyObject(lambda: _current_partnership(request))
        return self.get_response(request)


IDLE_TOUCHED_KEY = "_idle_touched"


class IdleTimeoutMiddleware:
    """The idle timeout (security.md): a signed-in session expires ``SESSION_COOKIE_AGE`` after it
    was last written, and each request pushes that deadline back, writing the session row at most
    once every ``SESSION_IDLE_WRITE_SECONDS`` (60) rather than on every request. The idle limit is
    therefore never longer than 30 minutes and at least 29, and most page views write nothing.

    Sits after ``SessionMiddleware``, which saves the session when this marks it modified. Only
    signed-in sessions are kept alive, so a visitor's stale cookie never turns into a new session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.is_empty() or AUTH_SESSION_KEY not in session:
            return response
        now = int(time.time())
        touched = session.get(IDLE_TOUCHED_KEY)
        fresh = touched is not None and 0 <= now - touched < settings.SESSION_IDLE_WRITE_SECONDS
        if session.modified or not fresh:
            session[IDLE_TOUCHED_KEY] = now  # saved (and the deadline pushed back) by SessionMiddleware
        return response
