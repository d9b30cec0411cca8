from typing import Any

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from evdms.notifications.attachments import attachment_response, attachments_of
from evdms.notifications.models import OutboundEmail


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """The outbox as sent: a stored e-mail is a record (a signed terms PDF went out with
    it), so nothing here edits one; the worker alone moves its status. Attachments are
    listed by name with a download, never shown as their stored base64."""

    list_display = ("created_at", "subject", "status", "attempts", "sent_at")
    list_filter = ("status", "template")
    search_fields = ("subject",)
    fields = (
        "to",
        "subject",
        "template",
        "organisation",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
        "text_body",
        "attachment_list",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:  # written by services only
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Attachments")
    def attachment_list(self, email: OutboundEmail) -> SafeString | str:
        files = attachments_of(email)
        if not files:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">{}</a> ({}, {} bytes)</li>',
                (
                    (
                        reverse(
                            "admin:notifications_outboundemail_attachment",
                            args=[email.pk, a.index],
                        ),
                        a.filename,
                        a.content_type,
                        a.size,
                    )
                    for a in files
                ),
            ),
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:email_id>/attachments/<int:index>/",
                self.admin_site.admin_view(self.attachment_view),
                name="notifications_outboundemail_attachment",
            ),
            *super().get_urls(),
        ]

    def attachment_view(self, request: HttpRequest, email_id: int, index: int) -> HttpResponse:
        email = OutboundEmail.objects.filter(pk=email_id).first()
        if email is None or not self.has_view_permission(request, email):
            raise Http404
        files = attachments_of(email)
        if not 0 <= index < len(files):
            raise Http404
        return attachment_response(files[index])
