"""The environment variables and default numbers that the commands show in their help.

Apart from scheduler.settings, which builds pydantic models, so that declaring the commands'
options loads nothing more: `campaign --help` stays quick. The store, the service and the
settings read them from here.
"""

from __future__ import annotations

CONFIG_ENV = "CAMPAIGN_CONFIG"
"""The operator's settings file, when ``--config`` is not given."""
DATABASE_ENV = "CAMPAIGN_DATABASE"
"""The database, when ``--database`` is not given."""
ACTOR_ENV = "CAMPAIGN_USER"
"""Who is acting, when ``--as`` is not given; else the login name."""
ATTENTION_LIMIT = 20
"""How many deliveries needing attention a status lists, unless asked for another number."""
AUDIT_LIMIT = 200
"""How many audit log entries `campaign audit` prints, unless asked for another number."""
MAX_AUDIT_LIMIT = 10_000
"""The most audit log entries read at once."""
PREFLIGHT_WORKERS = 8
"""How many accounts `campaign check` verifies at once, unless asked for another number."""
