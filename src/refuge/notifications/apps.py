from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "refuge.notifications"
    label = "notifications"
    verbose_name = "Notifications and the worklist"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from refuge.core.notices import register_security_listener
        from refuge.core.views.pages import register_home_section

        from . import services
        from .worklist_views import home_section

        register_security_listener(services.security_listener)
        register_home_section(home_section)
        # Sign-out drops the push subscription that this session made (its device), wherever
        # the sign-out comes from (the button, an idle timeout that logs out, an admin).
        user_logged_out.connect(_drop_device_at_sign_out, dispatch_uid="refuge.push.sign_out")


def _drop_device_at_sign_out(sender, request, user, **kwargs) -> None:
    from . import services

    session = getattr(request, "session", None)
    services.push_drop_for_session(session_key=getattr(session, "session_key", None))
