"""OpenAI-shaped errors: `{"error": {"message", "type", "param", "code"}}` with the right status.

    400 invalid_request_error   bad parameters, malformed JSON, a prompt over the context
    401 authentication_error    a wrong or missing key when the server has one
    404 invalid_request_error   an unknown model (code model_not_found) or route
    413 invalid_request_error   a body over the size limit (code request_too_large)
    429 rate_limit_error        the model's queue is full (code rate_limit_exceeded, Retry-After)
    503 server_error            the server is shutting down (code service_unavailable)

Messages are one line, like every lmlab error, and never quote the prompt text.
"""

from __future__ import annotations

from typing import Any, ClassVar

from lmlab.errors import LmlabError


class APIError(Exception):
    """An error answered to the client as an OpenAI error object with an HTTP status."""

    TYPES: ClassVar[dict[int, str]] = {400: "invalid_request_error", 401: "authentication_error", 404: "invalid_request_error",
             405: "invalid_request_error", 413: "invalid_request_error", 429: "rate_limit_error",
             500: "server_error", 503: "server_error"}

    def __init__(self, status: int, message: str, *, param: str | None = None,
                 code: str | None = None, type: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.type = type or self.TYPES.get(status, "invalid_request_error")

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param,
                          "code": self.code}}

    @classmethod
    def from_lmlab(cls, exc: LmlabError, *, param: str | None = None) -> APIError:
        """A user mistake found by the library (a bad decoding value, a bad message): 400."""
        return cls(400, str(exc), param=param or exc.where, code="invalid_value")


def bad(message: str, param: str | None = None, code: str | None = "invalid_value") -> APIError:
    """A 400 for a bad parameter."""
    return APIError(400, message, param=param, code=code)
