"""Stored pairs and the versions of their plans."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session as DbSession

from coach.errors import InputError
from coach.models import Pair, Plan
from coach.store.database import Database
from coach.store.schema import EvalRunRow, FeedbackRow, PairRow, PlanRow, SessionRecord, utcnow

ID_PATTERN = re.compile(r"^[0-9a-f]{4,32}$")
#: The keys of a `pair list` row, in order.
LIST_FIELDS = ("id", "mentor", "mentee", "sessions_planned", "cohort", "cadence", "start", "plan_version")


def new_pair_id() -> str:
    """A random 12-hex-digit id (48 bits: no collision in practice, even across processes)."""
    return secrets.token_hex(6)


@dataclass(frozen=True)
class PairInfo:
    """A stored pair with its latest plan version (0 when it has none)."""

    id: str
    cohort: str | None
    mentor: str
    mentee: str
    sessions_planned: int
    cadence: str
    start: dt.date
    created_at: dt.datetime
    plan_version: int
    pair: Pair

    def list_row(self) -> dict[str, Any]:
        """SPEC.md section 7 `pair list` row plus a few fields."""
        row: dict[str, Any] = {name: getattr(self, name) for name in LIST_FIELDS}
        row["start"] = self.start.isoformat()
        return row


@dataclass(frozen=True)
class PlanVersion:
    """One stored version of a plan."""

    pair_id: str
    version: int
    reason: str
    engine: str
    model: str
    created_at: dt.datetime
    run_id: int | None
    plan: Plan


class PairRepository(Database):
    """Pairs and plan versions; the other repositories find their pair through `resolve_pair_id`."""

    @staticmethod
    def _pair_row(pair: Pair, cohort: str | None, source: str | None, pair_id: str | None = None) -> PairRow:
        return PairRow(
            id=pair_id or new_pair_id(),
            cohort=cohort,
            mentor_name=pair.mentor.name,
            mentor_role=pair.mentor.role,
            mentee_name=pair.mentee.name,
            mentee_role=pair.mentee.role,
            sessions_planned=pair.program.sessions,
            minutes=pair.program.minutes,
            cadence=pair.program.cadence,
            start=pair.program.start,
            goals_total=len(pair.mentee.goals),
            pair_json=pair.model_dump_json(),
            source=source,
            created_at=utcnow(),
        )

    def add_pair(self, pair: Pair, cohort: str | None = None, source: str | None = None) -> str:
        """Store a pair; returns its new id."""
        return self.add_pairs([pair], cohort=cohort, source=source)[0]

    def add_pairs(self, pairs: list[Pair], cohort: str | None = None, source: str | None = None) -> list[str]:
        """Store many pairs in one transaction (all or none); returns their ids in order."""
        ids: list[str] = []
        seen: set[str] = set()
        for _ in pairs:
            pid = new_pair_id()
            while pid in seen:
                pid = new_pair_id()
            seen.add(pid)
            ids.append(pid)
        now = utcnow()

        def run(s: DbSession) -> list[str]:
            rows = []
            for i, (pid, pair) in enumerate(zip(ids, pairs, strict=True)):
                row = self._pair_row(pair, cohort, source, pid)
                # A microsecond apart: lists keep the roster's order (ids are random).
                row.created_at = now + dt.timedelta(microseconds=i)
                rows.append(row)
            s.add_all(rows)
            s.flush()
            return ids

        return self.write(run)

    def resolve_pair_id(self, s: DbSession, ident: str) -> str:
        """The full id for an id or a unique prefix of at least 4 characters; InputError otherwise."""
        ident = ident.strip().lower()
        if not ID_PATTERN.match(ident):
            raise InputError("PAIR", "id", f"a pair id (see `coach pair list`), got {ident!r}")
        if s.get(PairRow, ident) is not None:
            return ident
        found = list(s.scalars(select(PairRow.id).where(PairRow.id.startswith(ident, autoescape=True)).limit(6)))
        if not found:
            raise InputError("PAIR", "id", f"the id of a stored pair (see `coach pair list`), got {ident!r}")
        if len(found) > 1:
            raise InputError("PAIR", "id", f"a unique id, but {ident!r} matches {', '.join(found[:5])}")
        return found[0]

    def find_pairs(self, mentor: str, mentee: str, cohort: str | None) -> list[str]:
        """Ids of stored pairs with these names (case-insensitive) in this cohort."""

        def run(s: DbSession) -> list[str]:
            q = select(PairRow.id).where(
                func.lower(PairRow.mentor_name) == mentor.lower(), func.lower(PairRow.mentee_name) == mentee.lower()
            )
            q = q.where(PairRow.cohort.is_(None)) if cohort is None else q.where(PairRow.cohort == cohort)
            return list(s.scalars(q))

        return self.read(run)

    def existing_names(self, cohort: str | None) -> dict[tuple[str, str], str]:
        """(mentor, mentee) lowercased -> pair id for one cohort (duplicate checks on import)."""

        def run(s: DbSession) -> dict[tuple[str, str], str]:
            q = select(PairRow.id, PairRow.mentor_name, PairRow.mentee_name)
            q = q.where(PairRow.cohort.is_(None)) if cohort is None else q.where(PairRow.cohort == cohort)
            return {(m.lower(), e.lower()): pid for pid, m, e in s.execute(q)}

        return self.read(run)

    @staticmethod
    def _latest_versions(s: DbSession, pair_ids: Iterable[str] | None = None) -> dict[str, int]:
        q = select(PlanRow.pair_id, func.max(PlanRow.version)).group_by(PlanRow.pair_id)
        if pair_ids is not None:
            q = q.where(PlanRow.pair_id.in_(list(pair_ids)))
        return {pid: int(v) for pid, v in s.execute(q)}

    @staticmethod
    def _info(row: PairRow, version: int) -> PairInfo:
        return PairInfo(
            id=row.id,
            cohort=row.cohort,
            mentor=row.mentor_name,
            mentee=row.mentee_name,
            sessions_planned=row.sessions_planned,
            cadence=row.cadence,
            start=row.start,
            created_at=row.created_at,
            plan_version=version,
            pair=Pair.model_validate_json(row.pair_json),
        )

    def list_pairs(self, cohort: str | None = None) -> list[PairInfo]:
        """Every stored pair (optionally of one cohort), oldest first."""

        def run(s: DbSession) -> list[PairInfo]:
            q = select(PairRow).order_by(PairRow.created_at, PairRow.id)
            if cohort is not None:
                q = q.where(PairRow.cohort == cohort)
            rows = list(s.scalars(q))
            versions = self._latest_versions(s)
            return [self._info(r, versions.get(r.id, 0)) for r in rows]

        return self.read(run)

    def get_pair(self, ident: str) -> PairInfo:
        """One stored pair by id or unique prefix."""

        def run(s: DbSession) -> PairInfo:
            pid = self.resolve_pair_id(s, ident)
            row = s.get(PairRow, pid)
            assert row is not None
            return self._info(row, self._latest_versions(s, [pid]).get(pid, 0))

        return self.read(run)

    def delete_pair(self, ident: str) -> tuple[str, dict[str, int]]:
        """Remove every row of the pair from every table (right to be forgotten); (id, rows deleted per table)."""

        def run(s: DbSession) -> tuple[str, dict[str, int]]:
            pid = self.resolve_pair_id(s, ident)
            counts: dict[str, int] = {}
            # Children first, explicitly: correct even where foreign-key cascades are off.
            for model in (FeedbackRow, SessionRecord, PlanRow, EvalRunRow):
                res = s.execute(delete(model).where(model.pair_id == pid))
                counts[str(model.__tablename__)] = int(res.rowcount or 0)  # type: ignore[attr-defined]
            res = s.execute(delete(PairRow).where(PairRow.id == pid))
            counts["pairs"] = int(res.rowcount or 0)  # type: ignore[attr-defined]
            return pid, counts

        return self.write(run)

    # ----------------------------------------------------------------- plans

    def save_plan(self, ident: str, plan: Plan, reason: str, run_id: int | None = None) -> int:
        """Store `plan` as the pair's next version (history is kept); returns the version number."""
        data = plan.model_dump_json()
        session_goals = json.dumps({str(x.number): sorted(set(x.goals)) for x in plan.sessions})

        def run(s: DbSession) -> int:
            pid = self.resolve_pair_id(s, ident)
            # Lock the pair row (PostgreSQL) so two writers cannot take the same version number;
            # SQLite already serialises writers with BEGIN IMMEDIATE.
            s.execute(select(PairRow.id).where(PairRow.id == pid).with_for_update())
            current = s.scalar(select(func.max(PlanRow.version)).where(PlanRow.pair_id == pid)) or 0
            s.add(
                PlanRow(
                    pair_id=pid,
                    version=current + 1,
                    reason=reason,
                    engine=plan.generated_by.engine,
                    model=plan.generated_by.model,
                    run_id=run_id,
                    sessions=len(plan.sessions),
                    session_goals=session_goals,
                    plan_json=data,
                    created_at=utcnow(),
                )
            )
            s.flush()
            return current + 1

        return self.write(run)

    @staticmethod
    def _version(row: PlanRow) -> PlanVersion:
        return PlanVersion(
            pair_id=row.pair_id,
            version=row.version,
            reason=row.reason,
            engine=row.engine,
            model=row.model,
            created_at=row.created_at,
            run_id=row.run_id,
            plan=Plan.model_validate_json(row.plan_json),
        )

    def plan_versions(self, ident: str) -> list[PlanVersion]:
        """Every version of the pair's plan, oldest first."""

        def run(s: DbSession) -> list[PlanVersion]:
            pid = self.resolve_pair_id(s, ident)
            rows = s.scalars(select(PlanRow).where(PlanRow.pair_id == pid).order_by(PlanRow.version))
            return [self._version(r) for r in rows]

        return self.read(run)

    def get_plan(self, ident: str, version: int | None = None) -> PlanVersion | None:
        """The latest (or a given) version of the pair's plan; None when it has no plan yet."""

        def run(s: DbSession) -> PlanVersion | None:
            pid = self.resolve_pair_id(s, ident)
            q = select(PlanRow).where(PlanRow.pair_id == pid)
            q = q.where(PlanRow.version == version) if version is not None else q.order_by(PlanRow.version.desc())
            row = s.scalars(q.limit(1)).first()
            return self._version(row) if row is not None else None

        return self.read(run)
