from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "refuge.meetings"
    label = "meetings"
    verbose_name = "Multi-agency risk meetings"
