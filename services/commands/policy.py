"""Policy commands (R4): the first policy versions of a new store and each later publication,
recorded in the log so every figure is a function of the log alone."""

from __future__ import annotations

import logging

from domain import limits
from domain.errors import NotFoundError
from domain.policy import Policy, PolicyBook, PolicyVersion
from infra.policy_file import DEFAULT_POLICY_FILE, default_policy
from services.commands.base import Done, LedgerBase, check_value, command

log = logging.getLogger("channel.ledger")


class PolicyCommands(LedgerBase):
    @command
    def open_policy(self, initial: PolicyBook | None = None) -> Done[Policy]:
        """Record the first policy versions in a store that has none: `initial` (default:
        `policy/default.toml`). A store made before policy versions were events records them once,
        on its first open, and says so. Another process opening the store at the same time makes
        this one's save conflict: the retry reads that process's policy."""
        try:
            return Done(self.get_policy(), None)
        except NotFoundError:
            pass
        book = initial or default_policy()
        head = self.recorder.max_notification_id() or 0
        note = "first policy of a new store"
        if head:
            note = (
                f"recorded on the first open of a store made before policy versions were "
                f"events (its log held {head} events)"
            )
            log.warning(
                "policy: this store holds %d events but no policy version; recording %s "
                "(versions %s) as its first policy", head, DEFAULT_POLICY_FILE.name,
                ", ".join(v.id for v in book.versions),
            )
        register = Policy()
        for version in book.versions:
            register.publish(version, note)
        return Done(register, self._save(register), created=True)

    @command
    def publish_policy(self, version: PolicyVersion, note: str = "") -> Done[PolicyVersion]:
        """R4: a new policy version, effective from a day in an open month (O6): closed months
        keep the figures they were closed with. The same version published again writes nothing."""
        limits.check_day(version.effective_from, "effective_from")
        check_value(version.id, "id", "policy_id")
        calendar = self._open_calendar(version.effective_from, "effective_from")
        register = self.get_policy()
        written = register.publish(version, note)
        return Done(register.book.by_id(version.id), self._save(register, read=(calendar,)),
                    created=written)
