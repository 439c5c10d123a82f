from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "kiungo.bench"
    verbose_name = "Benchmark baseline"
