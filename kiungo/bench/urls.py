"""Included by kiungo/urls.py only when KIUNGO_BENCH=1."""

from django.urls import path

from kiungo.bench.views import bare

app_name = "bench"
urlpatterns = [path("bench/bare", bare, name="bare")]
