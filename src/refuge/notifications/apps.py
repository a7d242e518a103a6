from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "refuge.notifications"
    label = "notifications"
    verbose_name = "Notifications and the worklist"

    def ready(self) -> None:
        from refuge.core.views.pages import register_home_section

        from .worklist_views import home_section

        register_home_section(home_section)
