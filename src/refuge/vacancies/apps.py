from django.apps import AppConfig


class VacanciesConfig(AppConfig):
    name = "refuge.vacancies"
    label = "vacancies"
