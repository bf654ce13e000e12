"""Reply notifications for the widget and API clients (/api/v1/notifications/...).

They work without reader accounts: the token from the mail is the proof.
"""
from __future__ import annotations

from flask import Blueprint, jsonify

from .. import web
from ..errors import ValidationError, problem
from ..extensions import db
from . import subscriptions

bp = Blueprint("notifications_api", __name__, url_prefix="/api/v1/notifications")


@bp.post("/confirm")
def confirm():
    confirmed = subscriptions.confirm_address(web.token_field(web.json_body()))
    db.session.commit()
    return jsonify({"confirmed": confirmed})


@bp.post("/unsubscribe")
def unsubscribe():
    data = web.json_body()
    everything = data.get("all", False)
    if not isinstance(everything, bool):
        raise ValidationError({"all": problem("invalid", "must be true or false")})
    removed = subscriptions.unsubscribe(web.token_field(data), everything=everything)
    db.session.commit()
    return jsonify({"unsubscribed": removed})
