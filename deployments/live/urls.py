from django.urls import path

from deployments.live import views

urlpatterns = [
    path("runs/<int:pk>/events/", views.run_events, name="run_events"),
]
