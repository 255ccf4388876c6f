"""Opaque per-study tokens for what participants' pages must name but never identify.

A trial page names its item and explanation (bots and scripts read ``data-item``); a dataset
row index, an item key or a content hash there would let anyone with the public data look up
the true label. A token is a keyed hash of the server's SECRET_KEY and the study's own random
secret over the row's primary key: stable within a study, meaningless outside it.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.db.models import Model

from studyapp.models import Study


def public_id(study: Study | None, row: Model) -> str:
    """The token that stands for ``row`` (an Item, an Explanation) on participants' pages."""
    salt = study.pseudonym_salt if study is not None else ""
    key = f"{settings.SECRET_KEY}:public-id:{salt}".encode()
    message = f"{row._meta.model_name}:{row.pk}".encode()
    return "t" + hmac.new(key, message, hashlib.sha256).hexdigest()[:20]
