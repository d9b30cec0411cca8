from django.contrib import admin

from evdms.notifications.models import OutboundEmail


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ("created_at", "subject", "status", "attempts", "sent_at")
    list_filter = ("status", "template")
    search_fields = ("subject",)
    readonly_fields = (
        "to",
        "subject",
        "text_body",
        "template",
        "created_at",
        "sent_at",
        "attempts",
    )
    exclude = ("html_body",)
