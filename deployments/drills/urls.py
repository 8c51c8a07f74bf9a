from django.urls import path

from deployments.drills import views

urlpatterns = [
    path("operations/drills/", views.recovery_drill_start, name="recovery_drill_start"),
    path("operations/drills/<int:pk>/", views.recovery_drill_detail, name="recovery_drill"),
]
