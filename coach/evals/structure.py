"""Structure and time evaluators: sessions, minutes and dates (structure), prerequisite order, two-way balance."""

from __future__ import annotations

from typing import ClassVar

from coach.evals.evaluator import Checklist, PlanEvaluator, PlanSubject, Verdict, problems_reason, ratio
from coach.models import PROGRAM_DOMAIN, SENIOR_DOMAINS, Plan

#: Share of the agenda minutes in blocks the senior leader leads (lead "mentee"; shared blocks,
#: lead "both", count for neither side). Why 15% to 60%:
#: - Below 15% (under 7 minutes of a 45-minute session) the senior only listens: the segment where
#:   they give strategy, leadership and career context back is a token gesture, and the two-way
#:   exchange that keeps senior leaders engaged in reverse mentoring is gone.
#: - The senior also leads while learning: hands-on practice with the senior at the keyboard is how
#:   digital skills stick, so a healthy plan has the senior leading a good part of the time.
#: - Above 60% the junior has too little time left to demonstrate and teach what they know natively,
#:   and the pairing slides back into ordinary top-down mentoring.
BALANCE_BAND = (0.15, 0.60)


class StructureEvaluator(PlanEvaluator):
    """Session count and numbering, lengths, agenda minutes, dates on the cadence, required parts."""

    name: ClassVar[str] = "structure"

    def score_plan(self, plan: Plan, subject: PlanSubject) -> Verdict:
        """Share of the structural checks the plan passes."""
        from coach.checks import CLOSING_CARD, KICKOFF_CARD, session_date

        prog = subject.pair.program
        check = Checklist()
        check(len(plan.sessions) == prog.sessions, f"expected {prog.sessions} sessions, got {len(plan.sessions)}")
        check(bool(plan.ground_rules), "no ground rules")
        check(bool(plan.success_measures), "no success measures")
        for i, s in enumerate(plan.sessions):
            w = f"session {i + 1}"
            check(s.number == i + 1, f"{w}: numbered {s.number}")
            check(s.minutes == prog.minutes, f"{w}: {s.minutes} minutes, the program says {prog.minutes}")
            total = sum(a.minutes for a in s.agenda)
            check(bool(s.agenda) and total == s.minutes, f"{w}: agenda adds up to {total} minutes, not {s.minutes}")
            want = session_date(prog.start, prog.cadence, i)
            check(s.date == want, f"{w}: dated {s.date}, the {prog.cadence} cadence gives {want}")
            check(bool(s.topics), f"{w}: no topics")
            check(bool(s.objectives), f"{w}: no objectives")
            check(bool(s.discussion_prompts), f"{w}: no discussion prompts")
        if plan.sessions:
            check(
                KICKOFF_CARD in {t.id for t in plan.sessions[0].topics},
                f"session 1 does not open with ground rules ({KICKOFF_CARD})",
            )
            check(
                CLOSING_CARD in {t.id for t in plan.sessions[-1].topics},
                f"the last session does not review progress ({CLOSING_CARD})",
            )
        return Verdict(check.score(), problems_reason(check.problems, f"all {check.count} structural checks pass"))


class OrderEvaluator(PlanEvaluator):
    """Prerequisites that the plan teaches come before the cards that need them."""

    name: ClassVar[str] = "order"

    def score_plan(self, plan: Plan, subject: PlanSubject) -> Verdict:
        """Share of prerequisite pairs in the plan that are in order."""
        position: dict[str, tuple[int, int]] = {}
        for s in plan.sessions:
            for j, t in enumerate(s.topics):
                position.setdefault(t.id, (s.number, j))
        pairs = 0
        problems = []
        for cid, pos in position.items():
            card = subject.kb.get(cid)
            if card is None or card.domain == PROGRAM_DOMAIN:
                continue
            for pre in card.prerequisites:
                if pre in position:
                    pairs += 1
                    if position[pre] > pos:
                        problems.append(
                            f"{cid!r} (session {pos[0]}) comes before its prerequisite {pre!r} (session {position[pre][0]})"
                        )
        if pairs == 0:
            return Verdict(1.0, "no card in the plan has a prerequisite that the plan also teaches")
        return Verdict(
            ratio(pairs - len(problems), pairs), problems_reason(problems, f"all {pairs} prerequisites come first")
        )


class BalanceEvaluator(PlanEvaluator):
    """Learning runs both ways: a senior-led segment every session and a senior-led share within `BALANCE_BAND`."""

    name: ClassVar[str] = "balance"

    def score_plan(self, plan: Plan, subject: PlanSubject) -> Verdict:
        """Share of two-way sessions, lowered when the senior's share of minutes leaves the band."""
        problems = []
        ok = 0
        senior = total = 0.0
        for s in plan.sessions:
            w = f"session {s.number}"
            led = sum(a.minutes for a in s.agenda if a.lead == "mentee")
            senior += led
            total += sum(a.minutes for a in s.agenda)
            askers = {p.asked_by for p in s.discussion_prompts}
            missing = []
            if not led:
                missing.append("no agenda block the senior leader leads")
            if not any(t.domain in SENIOR_DOMAINS for t in s.topics):
                missing.append(f"no topic from {', '.join(SENIOR_DOMAINS)}")
            if not (askers & {"mentee", "both"}) or not (askers & {"mentor", "both"}):
                missing.append("prompts are not asked both ways")
            if missing:
                problems.append(f"{w}: " + ", ".join(missing))
            else:
                ok += 1
        score = ratio(ok, len(plan.sessions))
        share = senior / total if total else 0.0
        lo, hi = BALANCE_BAND
        band = f"senior-led share {share:.0%} (band {lo:.0%}-{hi:.0%})"
        if not lo <= share <= hi:
            # Linear fall-off: 0 when the share is a whole band-width outside.
            distance = lo - share if share < lo else share - hi
            score *= max(0.0, 1.0 - distance / (hi - lo))
            problems.insert(0, f"{band} is outside the band")
        reason = problems_reason(problems, f"every session runs both ways; {band}")
        return Verdict(score, reason)
