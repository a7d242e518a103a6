from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "refuge.notifications"
    label = "notifications"
    verbose_name = "Notifications and the worklist"
