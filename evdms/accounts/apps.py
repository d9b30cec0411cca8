from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "evdms.accounts"
    label = "accounts"
