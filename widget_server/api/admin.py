"""Admin endpoints (Authorization: Bearer <token>): moderation of comments."""
from __future__ import annotations

from flask import Blueprint, Response, current_app

from .. import comments as service
from ..auth import admin_required
from ..errors import APIError
from ..extensions import db, limiter
from ..models import Comment

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")

# Failed authentications (401) count against the client's budget; once it is
# spent, every admin request from that client gets 429 until it refills.
limiter.limit(lambda: current_app.config["RATELIMIT_ADMIN_AUTH"],
              deduct_when=lambda response: response.status_code == 401)(bp)


@bp.delete("/comments/<int:comment_id>")
@admin_required
def delete_comment(comment_id: int):
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise APIError(404, "not_found", "no such comment")
    service.remove(comment)
    db.session.commit()
    return Response(status=204)
