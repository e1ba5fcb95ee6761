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
