"""Every domain's models, imported in one place so SQLAlchemy metadata (and
therefore Alembic) sees the whole schema."""

from app.audit import AuditEvent
from app.auth.models import User, UserSession
from app.events.models import Event
from app.issues.models import Issue, IssueTemplate, Rendering, Revision
from app.jobs.models import Job, Upload, UploadChunk
from app.media.models import MediaItem
from app.quotas import QuotaCounter
from app.segments.models import Segment
from app.sending.models import DailyStat, Delivery, FeedbackEvent, RateBucket, Send, SnsMessage
from app.settings.models import Setting
from app.subscribers.models import (
    AttributeDefinition,
    MailingList,
    Subscriber,
    SubscriberImport,
    Subscription,
    Suppression,
)

__all__ = [
    "AttributeDefinition",
    "AuditEvent",
    "DailyStat",
    "Delivery",
    "Event",
    "FeedbackEvent",
    "Issue",
    "IssueTemplate",
    "Job",
    "MailingList",
    "MediaItem",
    "QuotaCounter",
    "RateBucket",
    "Rendering",
    "Revision",
    "Segment",
    "Send",
    "Setting",
    "SnsMessage",
    "Subscriber",
    "SubscriberImport",
    "Subscription",
    "Suppression",
    "Upload",
    "UploadChunk",
    "User",
    "UserSession",
]
