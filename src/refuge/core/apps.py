from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "refuge.core"
    label = "core"
    verbose_name = "Refuge core"
