"""The FastAPI application factory: routes, auth, and errors as RFC 9457 problem+json."""

from __future__ import annotations

import importlib.util
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from midway import __version__, heap
from midway.core.errors import DomainError
from midway.db import Database, as_busy
from midway.errors import MidwayError, field_path
from midway.fulfillment.group import GroupPlacer
from midway.settings import Settings, get_settings

log = logging.getLogger("midway.api")
PROBLEM = "application/problem+json"


def problem_response(
    status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """A problem+json response."""
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def domain_problem(exc: DomainError) -> tuple[int, dict[str, Any]]:
    """Status and problem body for an error raised by the pure domain."""
    transition = exc.code == "invalid_transition"
    status = 409 if transition else 422
    body: dict[str, Any] = {
        "type": f"https://midway.dev/problems/{exc.code}",
        "title": "Action not allowed in this state" if transition else "Invalid input",
        "status": status,
        "code": exc.code,
        "detail": str(exc),
    }
    if exc.field:
        body["field"] = exc.field
    if transition:
        body["state"] = {
            "status": getattr(exc, "status", None),
            "request_status": getattr(exc, "request_status", None),
        }
        body["allowed"] = list(getattr(exc, "allowed", ()))
    return status, body


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> str:
    """Every method the request's path answers to, for a 405's Allow header (HTTP requires
    it; Starlette names only those of the first route matching the path, and a path such as
    /v1/orders has one route for GET and another for POST)."""
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
    return ", ".join(allowed)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(MidwayError)
    async def midway_error(_: Request, exc: MidwayError) -> JSONResponse:
        return problem_response(exc.status, exc.problem())

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return problem_response(*domain_problem(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                # A JSON syntax error's location ends with a character offset, not a field.
                "field": "body"
                if e.get("type") == "json_invalid"
                else field_path(e.get("loc", ())),
                "message": e.get("msg", ""),
                "type": e.get("type", ""),
            }
            for e in exc.errors()
        ]
        malformed = any(e["type"] == "json_invalid" for e in errors)
        first = errors[0] if errors else {"field": None, "message": "invalid request"}
        return problem_response(
            422 if not malformed else 400,
            {
                "type": "https://midway.dev/problems/"
                + ("malformed_json" if malformed else "invalid_input"),
                "title": "Malformed JSON" if malformed else "Invalid input",
                "status": 400 if malformed else 422,
                "code": "malformed_json" if malformed else "invalid_input",
                "detail": f"{first['field']}: {first['message']}",
                "field": first["field"],
                "errors": errors,
            },
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        return problem_response(
            exc.status_code,
            {
                "type": f"https://midway.dev/problems/{code}",
                "title": str(exc.detail),
                "status": exc.status_code,
                "code": code,
                "detail": str(exc.detail),
            },
            headers,
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem_response(
            500,
            {
                "type": "https://midway.dev/problems/internal_error",
                "title": "Internal error",
                "status": 500,
                "code": "internal_error",
                "detail": "an unexpected error occurred; it has been logged",
            },
        )

    @app.exception_handler(OperationalError)
    async def database_error(request: Request, exc: OperationalError) -> JSONResponse:
        busy = as_busy(exc)
        if busy is None:
            return await unexpected(request, exc)
        return problem_response(busy.status, busy.problem(), {"Retry-After": "1"})


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the API application for a database (from settings when not given)."""
    settings = settings or get_settings()
    db = database or Database(settings.database_url, pool_size=settings.pool_size)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Requests run in worker threads, each holding a pooled connection. With more threads
        # than pooled connections, a burst opens overflow connections and closes them again
        # (a new PostgreSQL backend each time); capped at the pool size, requests wait their
        # turn on the event loop instead.
        to_thread.current_default_thread_limiter().total_tokens = db.pool_size
        with heap.frozen():  # what the app is built of stays out of collection passes
            yield

    app = FastAPI(
        **_telemetry(),
        lifespan=lifespan,
        title="Midway",
        version=__version__,
        summary="The shared record of a merchant and its 3PLs.",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.db = db
    app.state.placer = GroupPlacer(db)
    app.state.settings = settings
    _install_error_handlers(app)
    for include in _routers():
        include(app)
    return app


def _telemetry() -> dict[str, Any]:
    """FastAPI's own OpenTelemetry spans and metrics, on when an OpenTelemetry SDK is installed
    to receive them. Without one, FastAPI would still look for a configured provider on every
    request, which costs about 2 % of an order's CPU and can never find one."""
    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}  # a FastAPI from before its built-in telemetry
    try:
        sdk = importlib.util.find_spec("opentelemetry.sdk") is not None
    except ModuleNotFoundError:
        sdk = False
    return {"telemetry": {"tracing": sdk, "metrics": sdk, "logs": sdk}}


def _routers() -> list[Callable[[FastAPI], None]]:
    from midway.api_routes import include_all

    return [include_all]
