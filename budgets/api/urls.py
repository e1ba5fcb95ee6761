"""Budget endpoints of API v1, included at ``/api/v1/`` next to the core's router."""

from rest_framework.routers import SimpleRouter

from budgets.api import views

router = SimpleRouter()
router.register("agreements", views.AgreementViewSet, basename="agreement")
router.register("schedules", views.ScheduleViewSet, basename="schedule")
router.register("funding-streams", views.FundingStreamViewSet, basename="funding-stream")
router.register("budget-lines", views.BudgetLineViewSet, basename="budget-line")
router.register("variations", views.VariationViewSet, basename="variation")
router.register("reviews", views.ReviewViewSet, basename="review")
router.register("monthly-positions", views.MonthlyPositionViewSet, basename="monthly-position")
router.register("contribution-plans", views.ContributionPlanViewSet, basename="contribution-plan")

urlpatterns = router.urls
