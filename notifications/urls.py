from django.urls import path

from notifications import views

urlpatterns = [
    path("projects/<slug:slug>/notifications/", views.project_notifications, name="project_notifications"),
    path("notifications/", views.global_notifications, name="notifications_global"),
    path("notifications/destinations/<int:pk>/", views.destination_detail, name="notification_destination"),
    path("notifications/destinations/<int:pk>/log/", views.destination_log, name="notification_destination_log"),
    path("notifications/destinations/<int:pk>/edit/", views.destination_edit, name="notification_destination_edit"),
    path("notifications/destinations/<int:pk>/test/", views.destination_test, name="notification_destination_test"),
    path(
        "notifications/destinations/<int:pk>/resume/", views.destination_resume, name="notification_destination_resume"
    ),
    path(
        "notifications/destinations/<int:pk>/secret/", views.destination_secret, name="notification_destination_secret"
    ),
    path(
        "notifications/destinations/<int:pk>/delete/", views.destination_delete, name="notification_destination_delete"
    ),
    path("notifications/deliveries/<int:pk>/redeliver/", views.delivery_redeliver, name="notification_redeliver"),
    path("profile/", views.profile, name="profile"),
]
