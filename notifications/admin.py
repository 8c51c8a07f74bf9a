from django.contrib import admin

from notifications.models import Delivery, DeliveryAttempt, Destination, NotificationPreference


@admin.register(Destination)
class DestinationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "project", "url_display", "paused", "consecutive_failures", "created_at")
    list_filter = ("kind", "paused")
    search_fields = ("name", "project__slug")
    # The address and the secret stay encrypted; manage them on the destination's page.
    exclude = ("url_encrypted", "secret_encrypted")
    readonly_fields = ("url_display", "consecutive_failures", "created_by", "created_at")


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("number", "at", "ok", "status_code", "latency_ms", "response_start", "error")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "event", "destination", "status", "attempts", "created_at")
    list_filter = ("status", "event")
    inlines = [AttemptInline]
    readonly_fields = [field.name for field in Delivery._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "email_opt_out")
