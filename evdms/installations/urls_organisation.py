from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    # --- quotes (the quotes piece) ---
    path("", include("evdms.installations.urls_quotes")),
]
