from django.urls import path

from deployments.operations import views

urlpatterns = [
    path("operations/", views.operations, name="operations"),
]
