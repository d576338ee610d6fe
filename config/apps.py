"""The project's composition root as an app, so it can own project-wide commands."""

from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "config"
    label = "project"
    verbose_name = "Project"
