from rest_framework.permissions import SAFE_METHODS, BasePermission

from commissioning.permissions import has_model_permission

METHOD_ACTIONS = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}


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
        action = getattr(view, "action_permission", None) or (
            "view" if request.method in SAFE_METHODS else METHOD_ACTIONS.get(request.method, "change")
        )
        if getattr(view, "action", None) in getattr(view, "action_permissions", {}):
            action = view.action_permissions[view.action]
        return has_model_permission(user, model, "view") and has_model_permission(user, model, action)
