"""Extensions, created once and bound to each app in create_app."""

from flask_smorest import Api

from .database import Database
from .errors import from_http_exception
from .schemas import ProblemSchema


class ServicemapApi(Api):
    """flask-smorest's Api, documenting and answering errors as problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error):
        return from_http_exception(error)


db = Database()
api = ServicemapApi()
