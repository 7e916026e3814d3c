"""Extensions, created once and bound to each app in create_app."""

from flask_smorest import Api

from .database import Database
from .errors import from_http_exception
from .schemas import ProblemSchema

PROBLEM_JSON = "application/problem+json"


class ServicemapApi(Api):
    """flask-smorest's Api, documenting and answering errors as problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self):
        # The error responses (DEFAULT_ERROR, UNPROCESSABLE_ENTITY, ...) are documented with
        # the content type errors.py sends, not the API's default application/json.
        self.DEFAULT_RESPONSE_CONTENT_TYPE = PROBLEM_JSON
        try:
            super()._register_responses()
        finally:
            del self.DEFAULT_RESPONSE_CONTENT_TYPE

    def handle_http_exception(self, error):
        return from_http_exception(error)


db = Database()
api = ServicemapApi()
