"""The API's input is strict (api.md, "General"): what a request says that the endpoint does not
understand is refused with a 400 naming it, never silently ignored.

- **Query parameters**: an endpoint accepts ``format``; a list also its FilterSet's filters, the
  page (``page``, ``page_size``) and ``ordering``; a view may declare more
  (``extra_query_params``, or the fields of its ``query_serializer_class``). Anything else answers
  400 ``{"<name>": ["Unknown query parameter ..."]}``.
- **Bodies**: a JSON body is an object (``{...}``); a list, a number, a string or null answers 400,
  as does JSON nested too deeply to read (``ObjectJSONParser``), on every POST, PUT and PATCH, also
  where the view reads no body.
"""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings

from commissioning.filtersets import filter_param_names

PAGE_PARAMS = ("page", "page_size")
ALWAYS = ("format",)
NOT_AN_OBJECT = "Send a JSON object ({...}) as the body."
TOO_DEEP = "The JSON body is nested too deeply to read."


_ALLOWED: dict[tuple, frozenset[str]] = {}


class StrictQueryMixin:
    """Refuse query parameters the endpoint does not read (mixed into every API view)."""

    extra_query_params: tuple[str, ...] = ()
    query_serializer_class = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # sign-in and permissions first: 401/403 before 400
        unknown = sorted(set(request.query_params) - self.allowed_query_params())
        if unknown:
            raise exceptions.ValidationError(
                {
                    name: [f"Unknown query parameter “{name}”: this endpoint does not filter on it."]
                    for name in unknown
                }
            )
        # PostgreSQL cannot compare text holding a NUL character: refuse it, naming the parameter.
        nul = sorted(
            name for name, values in request.query_params.lists() if any("\x00" in v for v in values)
        )
        if nul:
            raise exceptions.ValidationError({name: ["Null characters are not allowed."] for name in nul})
        if request.method in ("POST", "PUT", "PATCH"):
            # Read the body now: one that is not a JSON object answers 400 even on an action that
            # reads no body (``offers/{id}/approve/``), instead of being ignored.
            request.data  # noqa: B018 - parsing is the point

    def is_list_request(self) -> bool:
        if self.request.method != "GET":
            return False
        action = getattr(self, "action", None)
        if action is not None:
            return action == "list"
        return getattr(self, "pagination_class", None) is not None and hasattr(self, "filter_queryset")

    def allowed_query_params(self) -> set[str]:
        # The same for every request to one view class, action, kind of request, and the query
        # serializer and filter backends the action uses: worked out once per process (it builds
        # the view's queryset and reads its FilterSet's filters, about a millisecond a request).
        key = (
            type(self),
            getattr(self, "action", None),
            self.is_list_request(),
            tuple(self.extra_query_params),
            self.query_serializer_class,
            tuple(getattr(self, "filter_backends", ())),
        )
        allowed = _ALLOWED.get(key)
        if allowed is None:
            allowed = _ALLOWED[key] = frozenset(self._allowed_query_params())
        return set(allowed)

    def _allowed_query_params(self) -> set[str]:
        allowed = {*ALWAYS, *self.extra_query_params}
        if self.query_serializer_class is not None:
            allowed.update(self.query_serializer_class().fields)
        if self.is_list_request():
            allowed.update(PAGE_PARAMS)
            for backend in getattr(self, "filter_backends", ()):
                if getattr(backend, "ordering_param", None):
                    allowed.add(api_settings.ORDERING_PARAM)
                if hasattr(backend, "get_filterset_class"):  # django-filter: declared or from fields
                    filterset_class = backend().get_filterset_class(self, self.get_queryset())
                    if filterset_class is not None:
                        allowed.update(filter_param_names(filterset_class))
        return allowed


class ObjectJSONParser(JSONParser):
    """JSON whose top level is an object: the only shape any endpoint here takes."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(TOO_DEEP) from None
        if not isinstance(data, dict):
            raise exceptions.ParseError(NOT_AN_OBJECT)
        return data


class StrictOrderingFilter(OrderingFilter):
    """``?ordering=`` names fields the list can be sorted by; anything else answers 400 naming
    ``ordering`` (DRF would silently ignore it)."""

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params:
            fields = [param.strip() for param in params.split(",")]
            valid = {name for name, _label in self.get_valid_fields(queryset, view, {"request": request})}
            unknown = [field for field in fields if field.lstrip("-") not in valid]
            if unknown:
                offered = ", ".join(sorted(valid)) or "nothing"
                raise exceptions.ValidationError(
                    {self.ordering_param: [f"Cannot sort by {', '.join(unknown)}: sort by {offered}."]}
                )
        return super().get_ordering(request, queryset, view)
