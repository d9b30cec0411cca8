from django.apps import AppConfig


class EnrolmentConfig(AppConfig):
    name = "evdms.enrolment"
    label = "enrolment"
