from django.urls import path

from deployments.plans import views

urlpatterns = [
    path("plans/speculative/<int:pk>/", views.speculative_plan_detail, name="speculative_plan"),
]
