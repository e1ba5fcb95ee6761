from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.functional import SimpleLazyObject

# Main navigation: (label, url name, section key). Sections whose issue has not landed yet are
# added here when their app brings its pages.
NAVIGATION = [
    ("Home", "dashboard", "dashboard"),
    ("Budgets", "budgets:index", "budgets"),
    ("Brokerage", "brokerage:index", "brokerage"),
    ("Finance", "finance:index", "finance"),
    ("Governance", "governance:index", "governance"),
    ("Contracts", "contracts:list", "contracts"),
    ("Audit", "audit:index", "audit"),
]

# The installed sections' (label, url, section), reversed once per URL configuration and script
# prefix (they never change while the process runs) instead of seven reverse() calls per page.
_links_cache: dict[tuple, tuple[tuple[str, str, str], ...]] = {}


def _nav_links() -> tuple[tuple[str, str, str], ...]:
    key = (get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    links = _links_cache.get(key)
    if links is None:
        found = []
        for label, name, section in NAVIGATION:
            try:
                found.append((label, reverse(name), section))
            except NoReverseMatch:
                continue  # that part of the product is not installed yet
        links = _links_cache[key] = tuple(found)
    return links


def _nav(request):
    items = []
    current = getattr(getattr(request, "resolver_match", None), "namespace", "") or "dashboard"
    for label, url, section in _nav_links():
        if section == "audit" and not request.user.has_perm("commissioning.view_audittrail"):
            continue
        items.append({"label": label, "url": url, "current": current == section})
    return items


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
