from django.urls import path

from evdms.installations import views_quotes

urlpatterns = [
    path("<str:token>/", views_quotes.quote_approval, name="quote_approval"),
]
