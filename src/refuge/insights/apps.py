from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "refuge.insights"
    label = "insights"
