"""Rebate-slip commands (R5, R6): the close's slips with their evidence, and the dealer's
confirmation or dispute and finance's resolution."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import limits
from domain.rebate_slip import RebateSlip
from domain.slip_evidence import SlipEvidence
from domain.values import Month
from infra import integrity, reads
from services.commands.base import Done, LedgerBase, command


class SlipCommands(LedgerBase):
    def get_slip(self, slip_id: str | UUID) -> RebateSlip:
        return self._get(RebateSlip, self._uuid(slip_id, "rebate slip"), "rebate slip")

    @command
    def issue_slips(
        self, period: str, issued_on: date, close_position: int, slips: list[dict[str, Any]]
    ) -> Done[list[RebateSlip]]:
        """R5: the close's process manager issues one slip per dealer ({dealer_id, lines, and the
        log positions of the events behind it as `evidence`}), in bounded saves. A slip that
        exists already is left as it is (replay, restart, a crash between two saves), and so is
        an evidence part: a slip's evidence is fixed by the close's position."""
        Month.parse(period, "period")
        ids = {str(s["dealer_id"]): RebateSlip.create_id(str(s["dealer_id"]), period)
               for s in slips}
        stored = reads.existing(self.recorder, ids.values())  # one statement, not one per dealer
        todo = [s for s in slips if ids[str(s["dealer_id"])] not in stored]
        # Audit: the digests of the stored events behind every slip (R7), read in one pass for
        # all of them rather than a query chain per dealer.
        digests = integrity.digests_at(
            self.recorder, (p for s in todo for p in s.get("evidence", ()))
        )
        evidence = {
            str(s["dealer_id"]): integrity.evidence_of([
                (p, digests[p]) for p in sorted({int(p) for p in s.get("evidence", ())})
                if p in digests
            ])
            for s in todo
        }
        parts_stored = reads.existing(self.recorder, (
            SlipEvidence.create_id(str(ids[dealer_id]), k)
            for dealer_id, sealed in evidence.items() for k in range(len(sealed.parts))
        ))
        new: list[RebateSlip] = []

        def aggregates() -> Iterator[Aggregate]:
            for slip in todo:
                dealer_id = str(slip["dealer_id"])
                slip_id = str(ids[dealer_id])
                sealed = evidence[dealer_id]
                for k, part in enumerate(sealed.parts):
                    if SlipEvidence.create_id(slip_id, k) not in parts_stored:
                        yield SlipEvidence(
                            slip_id=slip_id, dealer_id=dealer_id, part=k,
                            parts=len(sealed.parts), positions=part.positions,
                            digests=part.digests,
                        )
                issued = RebateSlip(
                    dealer_id=dealer_id,
                    period=period,
                    issued_on=issued_on,
                    close_position=close_position,
                    lines=list(slip["lines"]),
                    evidence_positions=sealed.inline.positions,
                    evidence_digests=sealed.inline.digests,
                    evidence_hash=sealed.hash,
                )
                new.append(issued)
                yield issued

        # A slip's parts precede it in the log; an interrupted run leaves no slip without them.
        position = self._save_bounded(aggregates())
        return Done(new, position, created=bool(new))

    @command
    def confirm_slip(self, slip_id: str, confirmed_on: date | None = None) -> Done[RebateSlip]:
        slip = self.get_slip(slip_id)
        slip.confirm(confirmed_on or max(self.clock(), slip.issued_on))
        return Done(slip, self._save(slip))

    @command
    def dispute_slip(
        self, slip_id: str, lines: list[dict[str, Any]], disputed_on: date | None = None
    ) -> Done[RebateSlip]:
        slip = self.get_slip(slip_id)
        slip.dispute(lines, disputed_on or max(self.clock(), slip.issued_on))
        return Done(slip, self._save(slip))

    @command
    def resolve_dispute(
        self,
        slip_id: str,
        dispute: int,
        accept: bool,
        amount: Decimal | str | None = None,
        note: str = "",
        resolved_on: date | None = None,
    ) -> Done[RebateSlip]:
        """R6: finance accepts (a correcting entry in the open month of `resolved_on`, O6) or
        rejects with a reason."""
        slip = self.get_slip(slip_id)
        resolved_on = resolved_on or max(self.clock(), slip.issued_on)
        calendar = self._open_calendar(resolved_on, "resolved_on")
        month = Month.of(resolved_on)
        slip.resolve(
            int(dispute),
            bool(accept),
            None if amount is None else limits.to_money(amount, "amount", signed=True),
            note,
            resolved_on,
            str(month),
            self.policy.in_force(month.first_day).id,
        )
        # The correction lands in an open month: refused if a close slipped in meanwhile (O6).
        return Done(slip, self._save(slip, read=[calendar]))
