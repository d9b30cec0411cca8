from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "evdms.connections"
    label = "connections"
