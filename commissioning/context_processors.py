from django.conf import settings
from django.urls import NoReverseMatch, reverse

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


def _nav(request):
    items = []
    current = getattr(getattr(request, "resolver_match", None), "namespace", "") or "dashboard"
    for label, name, section in NAVIGATION:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue  # that part of the product is not installed yet
        if section == "audit" and not request.user.has_perm("commissioning.view_audittrail"):
            continue
        items.append({"label": label, "url": url, "current": current == section})
    return items


def shell(request):
    user = getattr(request, "user", None)
    context = {"site_name": settings.SITE_NAME}
    if user is None or not user.is_authenticated:
        return context
    from commissioning.models import Partnership

    context.update(
        {
            "nav_items": _nav(request),
            "user_roles": [g.name for g in user.groups.all()]
            or (["Administrator"] if user.is_superuser else []),
            "granted_partnerships": list(Partnership.objects.restrict(user, "view").only("pk", "name")),
            "current_partnership": getattr(request, "partnership", None),
        }
    )
    return context
