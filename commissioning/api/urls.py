"""API v1 (api.md), included at ``/api/v1/``."""

from rest_framework import permissions, routers

from commissioning.api import views


class APIRootView(routers.APIRootView):
    """Links to every resource of API v1."""

    # Any signed-in user may read the index; each resource applies its own role permission.
    permission_classes = [permissions.IsAuthenticated]


class Router(routers.DefaultRouter):
    APIRootView = APIRootView
    # ``?format=csv`` is the one way to ask for CSV; no ``contracts.csv`` suffix routes.
    include_format_suffixes = False


router = Router()
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("partnerships", views.PartnershipViewSet, basename="partnership")
router.register("providers", views.ProviderViewSet, basename="provider")
router.register("contracts", views.ContractViewSet, basename="contract")

app_name = "api"
urlpatterns = router.urls
