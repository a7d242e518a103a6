from django.apps import AppConfig


class HelpConfig(AppConfig):
    name = "refuge.help"
    label = "help"
    verbose_name = "Public help pages"
