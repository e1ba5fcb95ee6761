from rest_framework.permissions import SAFE_METHODS, BasePermission

from commissioning.permissions import has_model_permission

METHOD_ACTIONS = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}


def required_action(request, view) -> str:
    """The model action (``view``/``add``/``change``/``delete``) a request needs on ``view.model``.

    A viewset may name it for a custom ``@action`` in ``action_permissions`` (``{"issue": "change"}``)
    or for the whole view in ``action_permission``; otherwise the HTTP method decides.
    """
    explicit = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
    if explicit:
        return explicit
    if getattr(view, "action_permission", None):
        return view.action_permission
    if request.method in SAFE_METHODS:
        return "view"
    return METHOD_ACTIONS.get(request.method, "change")


class RolePermission(BasePermission):
    """A role must hold the model permission for the request's action, else 403.

    Object visibility is decided earlier by ``restrict`` in the viewset's queryset (hidden: 404).
    Views without a ``model`` (reports) declare ``required_permission`` instead.
    """

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        required = getattr(view, "required_permission", None)
        if required:
            return user.is_superuser or user.has_perm(required)
        model = getattr(view, "model", None)
        if model is None:
            return user.is_superuser
        action = required_action(request, view)
        return has_model_permission(user, model, "view") and has_model_permission(user, model, action)
