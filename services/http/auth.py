"""Who may call what: bearer-key authentication before every view, and a `guard` decorator stating
each operation's roles (DESIGN.md's table) and how a dealer's own data is recognised."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from uuid import UUID

from flask import current_app, g, request
from flask_smorest import Blueprint
from werkzeug.exceptions import Forbidden, Unauthorized

from services.http.keys import KeyStore, Principal, Role

F = TypeVar("F", bound=Callable[..., Any])
# Given the view's path arguments, the id of the dealer whose data the request touches; None when
# the request does not say yet (the view checks again once the body is read).
OwnerResolver = Callable[[dict[str, Any]], str | None]

EVERYONE: tuple[Role, ...] = tuple(Role)


class Denied(Forbidden):
    """403: the key's role may not do this, or the data belongs to another dealer."""


def authenticate() -> None:
    """`before_request`: every operation but the public ones names a valid key (else 401)."""
    g.principal = None
    if request.endpoint is None or request.blueprint in ("api-docs", "docs-assets"):
        return  # unknown route (404/405 follow), the OpenAPI document and its browser's files
    view = current_app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)
    method = getattr(view_class, request.method.lower(), None) if view_class else view
    if getattr(method, "public", False):
        return
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise Unauthorized("send the API key as `Authorization: Bearer <key>`")
    keys: KeyStore = current_app.extensions["channel"].keys
    principal = keys.authenticate(presented.strip())
    if principal is None:
        raise Unauthorized("unknown or revoked API key")
    g.principal = principal


def principal() -> Principal:
    found = g.get("principal")
    if found is None:  # a guarded view is never reached without authentication
        raise Unauthorized("send the API key as `Authorization: Bearer <key>`")
    return cast(Principal, found)


def guard(*roles: Role, own: OwnerResolver | None = None) -> Callable[[F], F]:
    """Allow `roles`; a dealer key (when `dealer` is among them and `own` is given) only for its own
    dealer's data. Runs before the body is read, so a refused caller learns nothing from a 422.
    The roles are published in the OpenAPI document as `x-roles`."""
    allowed = frozenset(roles)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = principal()
            if who.role not in allowed:
                raise Denied(f"role {who.role} may not do this; allowed: "
                             + ", ".join(r.value for r in roles))
            if who.role == Role.DEALER and own is not None:
                owner = own(kwargs)
                if owner is not None:
                    require_own_dealer(owner)
            return view(*args, **kwargs)

        roles_text = ", ".join(r.value for r in roles)
        if own is not None and Role.DEALER in allowed:
            roles_text += " (a dealer: its own data only)"
        lines = (view.__doc__ or "").strip().splitlines()
        rest = "\n".join(line.strip() for line in lines[1:]).strip()
        # Every guarded operation may answer 401 and 403 (flask-smorest's responses by status).
        documented = Blueprint.doc(
            description=(rest + "\n\n" if rest else "") + f"Roles: {roles_text}.",
            responses={401: "UNAUTHORIZED", 403: "FORBIDDEN"},
            **{"x-roles": [r.value for r in roles]},
        )
        return cast(F, documented(wrapper))

    return decorator


def public(view: F) -> F:
    """Mark an operation that answers without a key (`/healthz`)."""
    documented = cast(F, Blueprint.doc(security=[])(view))
    documented.public = True  # type: ignore[attr-defined]
    return documented


def require_own_dealer(dealer_id: str | None) -> None:
    """403 unless the caller is not a dealer, or is this dealer."""
    who = principal()
    if who.role == Role.DEALER and str(dealer_id) != who.dealer_id:
        raise Denied("a dealer key sees and acts on its own dealer's data only")


def scoped_dealer(requested: str | None) -> str | None:
    """The dealer filter of a list: a dealer key sees its own rows (asking for another's is 403)."""
    who = principal()
    if who.role != Role.DEALER:
        return requested
    if requested is not None:
        require_own_dealer(requested)
    return who.dealer_id


def path_dealer(name: str = "dealer_id") -> OwnerResolver:
    return lambda kwargs: str(kwargs[name])


def body_dealer(kwargs: dict[str, Any]) -> str | None:
    """The `dealer_id` of a JSON body, normalised, if it can be read before validation."""
    data = request.get_json(silent=True)
    given = data.get("dealer_id") if isinstance(data, dict) else None
    if not isinstance(given, str):
        return None
    try:
        return str(UUID(given))
    except ValueError:
        return None
