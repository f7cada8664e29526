"""The demo's time axis: timestamps are epoch seconds, and history reaches back from ``as_of``."""

from __future__ import annotations

import datetime

SECONDS_PER_DAY = 86_400
EPOCH = datetime.date(1970, 1, 1)
MIN_AS_OF = datetime.date(2000, 1, 1)  # keeps two years of history well after the epoch
COMPANY_HISTORY_DAYS = 730
CONTACT_HISTORY_DAYS = 365
