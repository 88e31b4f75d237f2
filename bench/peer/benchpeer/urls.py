"""allauth's pages (/accounts/) and its headless JSON API (/_allauth/)."""
from django.urls import include, path

urlpatterns = [
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
]
