from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.functional import SimpleLazyObject

from commissioning import registry

# The installed sections' (section, url), reversed once per URL configuration and script prefix
# (they never change while the process runs) instead of a reverse() per section per page.
_links_cache: dict[tuple, tuple[tuple[registry.Section, str], ...]] = {}


def _nav_links() -> tuple[tuple[registry.Section, str], ...]:
    key = (get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF, len(registry.SECTIONS))
    links = _links_cache.get(key)
    if links is None:
        found = []
        for section in registry.sections():
            try:
                found.append((section, reverse(section.url_name)))
            except NoReverseMatch:
                continue  # that part of the product is not installed
        links = _links_cache[key] = tuple(found)
    return links


def _nav(request):
    """The areas the user's role may open (a board member sees no Brokerage or Finance), the
    current one marked."""
    user = request.user
    current = getattr(getattr(request, "resolver_match", None), "namespace", "") or "dashboard"
    return [
        {"label": section.label, "url": url, "current": current == section.key}
        for section, url in _nav_links()
        if not section.permission or user.has_perm(section.permission)
    ]


def _roles(user):
    return user.role_names or (["Administrator"] if user.is_superuser else [])


def _granted_partnerships(user):
    from commissioning.models import Partnership

    return list(Partnership.objects.restrict(user, "view").only("pk", "name"))


def shell(request):
    """The page shell's data. Each value is computed when a template first uses it (base.html
    uses them all), so fragments rendered for htmx and e-mails pay no query for the header."""
    user = getattr(request, "user", None)
    context = {"site_name": settings.SITE_NAME}
    if user is None or not user.is_authenticated:
        return context
    context.update(
        {
            "nav_items": SimpleLazyObject(lambda: _nav(request)),
            "user_roles": SimpleLazyObject(lambda: _roles(user)),
            "granted_partnerships": SimpleLazyObject(lambda: _granted_partnerships(user)),
            "current_partnership": getattr(request, "partnership", None),
        }
    )
    return context
