"""Every domain's models, imported in one place so SQLAlchemy metadata (and
therefore Alembic) sees the whole schema."""

from app.auth.models import User
from app.events.models import Event
from app.issues.models import Issue, Revision
from app.media.models import MediaItem
from app.sending.models import DailyStat, Delivery, FeedbackEvent, RateBucket, Send, SnsMessage
from app.settings.models import Setting
from app.subscribers.models import MailingList, Subscriber, Subscription, Suppression

__all__ = [
    "DailyStat", "Delivery", "Event", "FeedbackEvent", "Issue", "MailingList", "MediaItem",
    "RateBucket", "Revision", "Send", "Setting", "SnsMessage", "Subscriber", "Subscription",
    "Suppression", "User",
]
