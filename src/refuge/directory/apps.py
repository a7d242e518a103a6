from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "refuge.directory"
    label = "directory"
