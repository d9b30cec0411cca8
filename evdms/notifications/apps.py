from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "evdms.notifications"
    label = "notifications"
