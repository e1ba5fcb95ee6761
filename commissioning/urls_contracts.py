from django.urls import path

from commissioning.views import contracts

app_name = "contracts"

urlpatterns = [
    path("", contracts.ContractListView.as_view(), name="list"),
    path("export.<slug:fmt>", contracts.ContractExportView.as_view(), name="export"),
    path("new/", contracts.ContractCreateView.as_view(), name="create"),
    path("<int:pk>/", contracts.ContractDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", contracts.ContractUpdateView.as_view(), name="edit"),
    path("<int:pk>/reviews/new/", contracts.ContractReviewAddView.as_view(), name="review-add"),
]
