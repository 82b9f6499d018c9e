"""Imports every domain's models so that Base.metadata knows all tables (Alembic, export and
erasure, tests). Part of the composition root with `accord.app` and `accord.cli`."""

from __future__ import annotations

import accord.analytics.models
import accord.brands.models
import accord.campaigns.models
import accord.compliance.models
import accord.consent.models
import accord.conversations.models
import accord.core.auth_models
import accord.core.idempotency_models
import accord.gatecheck.models
import accord.ideas.models
import accord.inbox.models
import accord.mail.models
import accord.outbox.models
import accord.people.models
import accord.postal.models
import accord.relationships.models
import accord.sms.models
import accord.terms.models
import accord.webhooks.models  # noqa: F401
from accord.core.db import Base

metadata = Base.metadata
