from django.urls import path

from deployments.runs import api, views

urlpatterns = [
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/poll/", views.run_poll, name="run_poll"),
    path("runs/<int:pk>/cancel/", views.run_cancel, name="run_cancel"),
    path("runs/<int:pk>/approve/", views.run_approve, name="run_approve"),
    path("runs/<int:pk>/confirm/", views.run_confirm, name="run_confirm"),
    path("runs/<int:pk>/discard/", views.run_discard, name="run_discard"),
    path("runs/<int:pk>/plan-again/", views.run_plan_again, name="run_plan_again"),
    path("runs/<int:pk>/log/", views.run_log_download, name="run_log_download"),
]

api_urlpatterns = [
    path("runs/", api.RunListView.as_view(), name="api_runs"),
    path("runs/<int:pk>/", api.RunDetailView.as_view(), name="api_run"),
    path("runs/<int:pk>/logs/", api.RunLogView.as_view(), name="api_run_logs"),
    path("runs/<int:pk>/cancel/", api.RunCancelView.as_view(), name="api_run_cancel"),
    path("runs/<int:pk>/approve/", api.RunApproveView.as_view(), name="api_run_approve"),
    path("runs/<int:pk>/confirm/", api.RunConfirmView.as_view(), name="api_run_confirm"),
    path("runs/<int:pk>/discard/", api.RunDiscardView.as_view(), name="api_run_discard"),
]
