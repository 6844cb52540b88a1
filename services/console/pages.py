"""The console's frame: sign-in (an API key exchanged for a signed session cookie), sign-out, the
language switch, and what every page shares: who is signed in, the role check, dealer scoping (a
dealer opens its own pages only: 403), CSRF on every form and refusals shown on the form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar, cast

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import Forbidden, NotFound

from domain.errors import ChannelError
from domain.values import Month
from services.http.context import channel, ledger
from services.http.keys import Principal, Role

F = TypeVar("F", bound=Callable[..., Any])
csrf = CSRFProtect()
bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")
STATIC = Path(__file__).resolve().parent / "static"
HOME = {
    Role.DEALER: "dealer.mine", Role.SALES: "sales.dealers", Role.MANAGER: "manager.queue",
    Role.FINANCE: "finance.close", Role.AUDITOR: "auditor.status", Role.ADMIN: "manager.rankings",
}


def page(*roles: Role) -> Callable[[F], F]:
    """A console page for `roles` (any signed-in role when none): answers without an API key (the
    session speaks for the caller), redirects to sign-in when there is no session, 403 otherwise."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = signed_in()
            if who is None:
                return redirect(url_for("console.sign_in", next=request.full_path))
            if roles and who.role not in roles:
                abort(403, _("Your role may not open this page."))
            return view(*args, **kwargs)

        wrapper.public = True  # type: ignore[attr-defined]  # the API's key check leaves it alone
        return cast(F, wrapper)

    return decorator


def signed_in() -> Principal | None:
    found = session.get("who")
    if not isinstance(found, dict):
        return None
    who = Principal(found["key_id"], Role(found["role"]), found.get("dealer_id"),
                    found.get("salesperson"))
    g.principal = who  # the API's own checks (auth.require_own_dealer) read it
    return who


def who() -> Principal:
    found = signed_in()
    if found is None:
        abort(401)
    return found


def own_dealer(dealer_id: str) -> None:
    """403 unless the caller is not a dealer, or is this dealer (as the API's scoping)."""
    if who().role == Role.DEALER and str(dealer_id) != who().dealer_id:
        abort(403, _("A dealer sees its own pages only."))


def refused(error: ChannelError) -> str:
    """A refusal as the form shows it: the rule id, then the API's message."""
    return f"[{error.rule or error.field or 'input'}] {error.message}"


def open_month() -> Month:
    """The first month not closed (O6), or the clock's month on a store that closed none."""
    last = ledger().get_calendar().last_closed
    return last.next() if last is not None else Month.of(ledger().clock())


def today() -> date:
    return ledger().clock()


def attach(blueprint: Blueprint) -> None:
    """What every console blueprint does first: CSRF on every POST, HTML error pages."""
    blueprint.before_request(_check_csrf)
    for status in (403, 404):
        blueprint.register_error_handler(status, _error)
    blueprint.register_error_handler(CSRFError, _csrf_error)


def _check_csrf() -> None:
    if request.method == "POST" and current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()


def _error(error: Forbidden | NotFound) -> ResponseReturnValue:
    return render_template("console/error.html", error=error), error.code or 500


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    return render_template("console/error.html", error=error), 400


attach(bp)


@bp.route("/static/<path:filename>", methods=["GET"])
def static(filename: str) -> ResponseReturnValue:
    """The console's own assets and the pinned libraries (static/vendor/NOTICE.md): no CDN."""
    return send_from_directory(STATIC, filename, max_age=3600)


static.public = True  # type: ignore[attr-defined]


@bp.route("/", methods=["GET"])
@page()
def index() -> ResponseReturnValue:
    return redirect(url_for(HOME[who().role]))


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    message = None
    if request.method == "POST":
        principal = channel().keys.authenticate(request.form.get("api_key", "").strip())
        if principal is None:
            message = _("Unknown or revoked API key.")
        else:
            lang = session.get("lang")
            session.clear()
            session.permanent = True
            session["who"] = {"key_id": principal.key_id, "role": principal.role.value,
                              "dealer_id": principal.dealer_id, "salesperson": principal.salesperson}
            if lang:
                session["lang"] = lang
            target = request.args.get("next", "")
            if not target.startswith("/console/"):
                target = url_for("console.index")
            return redirect(target)
    status = 401 if message else 200
    return render_template("console/sign_in.html", message=message), status


sign_in.public = True  # type: ignore[attr-defined]


@bp.route("/sign-out", methods=["POST"])
@page()
def sign_out() -> ResponseReturnValue:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("console.sign_in"))


@bp.route("/language", methods=["POST"])
def language() -> ResponseReturnValue:
    chosen = request.form.get("lang", "")
    if chosen in ("en", "zh"):
        session["lang"] = chosen
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/console/") else url_for("console.index"))


language.public = True  # type: ignore[attr-defined]
