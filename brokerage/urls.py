from django.urls import path

from . import views

app_name = "brokerage"

urlpatterns = [
    path("", views.QueueView.as_view(), name="index"),
    path("referrals/new/", views.ReferralCreateView.as_view(), name="referral-create"),
    path("referrals/<int:pk>/", views.ReferralDetailView.as_view(), name="referral"),
    path("referrals/<int:pk>/claim/", views.ReferralClaimView.as_view(), name="referral-claim"),
    path("referrals/<int:pk>/assign/", views.ReferralAssignView.as_view(), name="referral-assign"),
    path("referrals/<int:pk>/sourcing/", views.ReferralSourcingView.as_view(), name="referral-sourcing"),
    path("referrals/<int:pk>/cancel/", views.ReferralCancelView.as_view(), name="referral-cancel"),
    path("referrals/<int:pk>/offers/new/", views.OfferCreateView.as_view(), name="offer-create"),
    path("referrals/<int:pk>/offers/rate-card/", views.OfferRateCardView.as_view(), name="offer-rate-card"),
    path("offers/<int:pk>/approve/", views.OfferApproveView.as_view(), name="offer-approve"),
    path("offers/<int:pk>/decline/", views.OfferDeclineView.as_view(), name="offer-decline"),
    path("offers/<int:pk>/accept/", views.OfferAcceptView.as_view(), name="offer-accept"),
    path("packages/", views.PackageListView.as_view(), name="packages"),
    path("packages/<int:pk>/", views.PackageDetailView.as_view(), name="package"),
    path("packages/<int:pk>/change-cost/", views.PackageChangeCostView.as_view(), name="package-change-cost"),
    path(
        "packages/<int:pk>/change-funding/",
        views.PackageChangeFundingView.as_view(),
        name="package-change-funding",
    ),
    path("packages/<int:pk>/end/", views.PackageEndView.as_view(), name="package-end"),
    path("packages/<int:pk>/suspend/", views.PackageSuspensionView.as_view(), name="package-suspend"),
    path("packages/<int:pk>/status/", views.PackageStatusView.as_view(), name="package-status"),
    path("approvals/", views.ApprovalsView.as_view(), name="approvals"),
    path(
        "price-changes/<int:pk>/approve/", views.PriceChangeApproveView.as_view(), name="price-change-approve"
    ),
    path(
        "price-changes/<int:pk>/decline/", views.PriceChangeDeclineView.as_view(), name="price-change-decline"
    ),
    path("panel/", views.PanelDecisionListView.as_view(), name="panel-decisions"),
    path("panel/new/", views.PanelDecisionCreateView.as_view(), name="panel-decision-create"),
    path("panel/<int:pk>/", views.PanelDecisionDetailView.as_view(), name="panel-decision"),
    path("clients/", views.ClientSearchView.as_view(), name="clients"),
    path("clients/new/", views.ClientCreateView.as_view(), name="client-create"),
    path("clients/<int:pk>/", views.ClientDetailView.as_view(), name="client"),
    path("clients/<int:pk>/edit/", views.ClientUpdateView.as_view(), name="client-edit"),
    path("rate-cards/", views.RateCardListView.as_view(), name="rate-cards"),
    path("rate-cards/new/", views.RateCardCreateView.as_view(), name="rate-card-create"),
    path("rate-cards/<int:pk>/edit/", views.RateCardUpdateView.as_view(), name="rate-card-edit"),
    path("market/", views.MarketView.as_view(), name="market"),
    path("timeliness/", views.TimelinessView.as_view(), name="timeliness"),
]
