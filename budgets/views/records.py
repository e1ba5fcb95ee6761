"""An agreement's variations (recorded from its page, with the approving decision and the signed
deed) and reviews (added, then recorded as held with their outcome)."""

from __future__ import annotations

from django.views import View

from budgets import services
from budgets.agreement_forms import ReviewForm, VariationForm
from budgets.models import Review, Section75Agreement, Variation, year_label
from budgets.views.agreements import pdf_response
from commissioning.generic import GateMixin, ServiceFormView


class _AgreementRecordView(ServiceFormView):
    template_name = "budgets/record_form.html"

    def get_agreement(self) -> Section75Agreement:
        return self.get_object("change", model=Section75Agreement)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(user=self.request.user, agreement=self.get_agreement())
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(agreement=self.get_agreement(), **kwargs)

    def get_success_url(self, result=None) -> str:
        return self.get_agreement().get_absolute_url() + self.anchor

    anchor = ""


class VariationCreateView(_AgreementRecordView):
    """Record a variation of an agreement the user may see (the role must hold ``add variation``)."""

    model = Variation
    action = "add"
    form_class = VariationForm
    submit = "Record the variation"
    anchor = "#variations"

    def get_heading(self) -> str:
        return f"Record a variation of {self.get_agreement().reference}"

    def get_initial(self):
        decision = self.request.GET.get("decision")
        return {"decision": decision} if decision and decision.isdigit() else {}

    def perform(self, form) -> Variation:
        return services.variation_record(
            agreement=self.get_agreement(), by=self.request.user, **form.service_arguments()
        )

    def get_success_message(self, variation: Variation) -> str:
        return f"Variation {variation.number} of {variation.agreement.reference} recorded"


class ReviewCreateView(_AgreementRecordView):
    model = Review
    action = "add"
    form_class = ReviewForm
    submit = "Save the review"
    anchor = "#reviews"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = Review(agreement=self.get_agreement())
        return kwargs

    def get_initial(self):
        due = self.get_agreement().next_review_due
        return {"due": due} if due else {}

    def get_heading(self) -> str:
        return f"Add a review of {self.get_agreement().reference}"

    def perform(self, form) -> Review:
        return services.review_create(
            agreement=self.get_agreement(), by=self.request.user, **form.service_arguments()
        )

    def get_success_message(self, review: Review) -> str:
        return f"Review of {year_label(review.year)} saved"


class ReviewUpdateView(_AgreementRecordView):
    model = Review
    action = "change"
    form_class = ReviewForm
    submit = "Save the review"
    anchor = "#reviews"

    def review(self) -> Review:
        return self.get_object("change")

    def get_agreement(self) -> Section75Agreement:
        return self.get_object("change", model=Section75Agreement, pk=self.review().agreement_id)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = self.review()
        return kwargs

    def get_heading(self) -> str:
        return f"Review of {self.get_agreement().reference} for {year_label(self.review().year)}"

    def perform(self, form) -> Review:
        return services.review_update(
            review=self.review(),
            by=self.request.user,
            version=form.cleaned_data["version"],
            **form.service_arguments(),
        )

    def get_success_message(self, review: Review) -> str:
        return f"Review of {year_label(review.year)} saved"


class VariationDeedView(GateMixin, View):
    """The signed deed of a variation (PDF), served only through the permission check."""

    model = Variation

    def get(self, request, pk):
        variation = self.get_object("view")
        return pdf_response(variation.signed_deed, variation.signed_deed_name, "variation.pdf")
