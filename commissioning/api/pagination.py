from rest_framework import exceptions, pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request):
        # Strict like the filters (api.md): a page size that is not a whole number from 1 to the
        # maximum answers 400 naming it, instead of silently falling back to the default.
        given = request.query_params.get(self.page_size_query_param)
        if given is not None:
            text = given.strip()
            if not text.isdigit() or not 1 <= int(text) <= self.max_page_size:
                raise exceptions.ValidationError(
                    {
                        self.page_size_query_param: [
                            f"Give a page size from 1 to {self.max_page_size}, e.g. page_size=100."
                        ]
                    }
                )
        return super().get_page_size(request)

    def paginate_queryset(self, queryset, request, view=None):
        # ?format=csv returns every row of the filtered list, not one page.
        if (
            getattr(request, "accepted_renderer", None) is not None
            and request.accepted_renderer.format == "csv"
        ):
            return None
        return super().paginate_queryset(queryset, request, view)
