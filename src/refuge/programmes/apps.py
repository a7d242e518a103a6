from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    name = "refuge.programmes"
    label = "programmes"
    verbose_name = "Perpetrator programmes"
