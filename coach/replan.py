"""Re-planning after cancellations and moves: refit the topics not yet taught, and check the result."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from coach.cohort import plan_pair
from coach.errors import CoachError, InputError
from coach.models import MENTOR_DOMAINS, PROGRAM_DOMAIN, SENIOR_DOMAINS, Pair

if TYPE_CHECKING:
    from coach.config import Settings
    from coach.knowledge import KnowledgeBase
    from coach.models import Card, Plan, Session
    from coach.store import LoggedSession


def _blocks_for_card(card: Card, pair: Pair, repeat: bool) -> list[Any]:
    from coach.planner import Block, fill

    acts = card.activities
    if repeat:
        acts = [a for a in acts if a.format in {"hands-on", "exercise", "role-play"}] or acts
    from coach.wording import agenda_line

    # One label per agenda line, as the planner writes it: the activity's own title, then what happens.
    return [
        Block(agenda_line(a.title, fill(a.description, pair)), a.lead, a.minutes, j == 0, 1 + j, topic=True)
        for j, a in enumerate(acts)
    ]


def replan(
    plan: Plan, pair: Pair, status: dict[int, LoggedSession], kb: KnowledgeBase, today: dt.date | None = None
) -> tuple[Plan, str]:
    """Keep held sessions, drop cancelled ones and fit every topic not yet taught into the sessions left.

    Sessions keep their numbers (a cancelled number disappears from the plan), a moved session takes
    its new date, and the order of topics is kept so prerequisites still come first.

    Returns:
        The new plan and a one-line reason naming what changed.
    """
    from coach.checks import CLOSING_CARD, GOALS_CARD, KICKOFF_CARD, normalise
    from coach.models import AgendaItem, Citation, DiscussionPrompt, PlanTopic
    from coach.planner import Block, check_in, closing_reflection, fill, fit_minutes, split_evenly, wrap_up

    today = today or dt.date.today()
    state = {n: rec.status for n, rec in status.items()}
    held = [s for s in plan.sessions if state.get(s.number) == "held"]
    dropped = [s for s in plan.sessions if state.get(s.number) == "cancelled"]
    left = [s for s in plan.sessions if state.get(s.number) not in {"held", "cancelled"}]
    moved = {
        s.number: status[s.number].date
        for s in left
        if state.get(s.number) == "moved" and status[s.number].date != s.date
    }
    if not dropped and not moved:
        raise InputError(
            "PAIR",
            "sessions",
            "a cancelled or moved session to re-plan around; none is logged "
            "(use `coach session log PAIR N --status cancelled`)",
        )
    if dropped and not left:
        raise InputError(
            "PAIR", "sessions", "a session not yet held or cancelled to move the topics into, but none is left"
        )
    mentor, mentee = pair.mentor.name, pair.mentee.name
    taught = {t.id for s in held for t in s.topics}
    kickoff_done = any(KICKOFF_CARD in {t.id for t in s.topics} for s in held)

    # The mentor-taught topics still to teach, in plan order, each with the goals its session served.
    sequence: list[Card] = []
    topic_goals: dict[str, set[int]] = {}
    for s in sorted(dropped + left, key=lambda x: x.number):
        for t in s.topics:
            card = kb.get(t.id)
            if card is None or card.domain not in MENTOR_DOMAINS:
                continue
            topic_goals.setdefault(card.id, set()).update(s.goals)
            if card.id not in taught and card not in sequence:
                sequence.append(card)
    if not sequence:  # everything was taught already: the sessions left practise the last topics
        sequence = [c for s in held for t in s.topics if (c := kb.get(t.id)) and c.domain in MENTOR_DOMAINS][-1:]
    if left and not sequence:
        raise CoachError("the plan has no mentor-taught topic to fit into the sessions left")
    groups = split_evenly(sequence, len(left)) if left else []

    used_prompts = {normalise(p.text) for s in held for p in s.discussion_prompts}
    new_left: list[Session] = []
    for i, (old, cards) in enumerate(zip(left, groups, strict=True)):
        first = i == 0 and not kickoff_done
        last = i == len(left) - 1
        old_ids = [t.id for t in old.topics if (c := kb.get(t.id)) and c.domain in MENTOR_DOMAINS]
        date = moved.get(old.number, old.date)
        had_program = {t.id for t in old.topics} & {KICKOFF_CARD, GOALS_CARD, CLOSING_CARD}
        want_program = ({KICKOFF_CARD, GOALS_CARD} if first else set()) | ({CLOSING_CARD} if last else set())
        if [c.id for c in cards] == old_ids and had_program == want_program:
            new_left.append(old.model_copy(update={"date": date}))
            used_prompts |= {normalise(p.text) for p in old.discussion_prompts}
            continue
        senior_topics = [t for t in old.topics if t.domain in SENIOR_DOMAINS]
        senior_cards = [c for t in senior_topics if (c := kb.get(t.id))]
        # The senior-led segment: mentee-led items that are not a practice part of a mentor-taught topic.
        old_mentor_cards = [c for t in old.topics if (c := kb.get(t.id)) and c.domain in MENTOR_DOMAINS]
        taught_titles = tuple(f"{c.title} - " for c in old_mentor_cards)
        # A mentor-taught card's activity, in either agenda style ("Card - Activity: ..." or "Activity: ..."),
        # or its practice block, belongs to that topic: it is rebuilt below, never carried over as well.
        topic_texts = [normalise(fill(a.description, pair)) for c in old_mentor_cards for a in c.activities]
        topic_texts += [normalise(k.meaning) for c in old_mentor_cards for k in c.key_concepts]
        senior_items = [
            a
            for a in old.agenda
            if a.lead == "mentee"
            and not a.activity.startswith(taught_titles)
            and not a.activity.startswith(("Quick tour", "Practise "))
            and not any(t and t in normalise(a.activity) for t in topic_texts)
        ]
        if not senior_items and senior_cards:
            from coach.planner import senior_activity

            text, weight = senior_activity(senior_cards[0], 0)
            senior_items = [
                AgendaItem(
                    minutes=int(weight), activity=f"{mentee} leads ({senior_cards[0].title}): {text}", lead="mentee"
                )
            ]
        repeat = {c.id for c in cards if c.id in taught}
        blocks: list[Block] = []
        program_cards: list[Card] = []
        if first:
            kick, goal = kb.get(KICKOFF_CARD), kb.get(GOALS_CARD)
            blocks.append(Block(f"Introductions: {mentor} and {mentee} share their roles and hopes", "both", 5, False))
            for card, label in ((kick, "Ground rules and psychological safety"), (goal, "Goal setting")):
                if card is not None:
                    program_cards.append(card)
                    act = card.activities[0]
                    blocks.append(Block(f"{label}: {act.description}", "both", act.minutes, True))
        else:
            blocks.append(check_in())
        for card in cards:
            blocks += _blocks_for_card(card, pair, card.id in repeat)
        for item in senior_items:
            blocks.append(Block(item.activity, "mentee", item.minutes, True))
        closing = kb.get(CLOSING_CARD) if last else None
        if closing is not None:
            program_cards.append(closing)
            review = closing.activities[0]
            blocks.append(
                Block(f"Review of progress and next steps: {review.description}", "both", review.minutes, True)
            )
        else:
            blocks.append(wrap_up())
        if len([b for b in blocks if b.mandatory]) > old.minutes // 2:
            at = next((k for k, b in enumerate(blocks) if b.topic), len(blocks))
            tour = Block("Quick tour: " + ", ".join(c.title for c in cards), "mentor", 10, True)
            rest = [b for b in blocks if not b.topic]
            blocks = [*rest[:at], tour, *rest[at:]]
        agenda = fit_minutes(blocks, old.minutes)

        prompts: list[DiscussionPrompt] = []

        def add(text: str, asked_by: Any, out: list[DiscussionPrompt] = prompts, used: set[str] = used_prompts) -> None:
            key = normalise(text)
            if key and key not in used:
                used.add(key)
                out.append(DiscussionPrompt(text=text, asked_by=asked_by))

        if first and program_cards:
            for p in program_cards[0].discussion_prompts[:2]:
                add(fill(p.text, pair), p.asked_by)
        for card in cards:
            for p in card.discussion_prompts[:3] if card.id not in repeat else card.discussion_prompts[3:]:
                add(fill(p.text, pair), p.asked_by)
        senior_texts = {normalise(fill(p.text, pair)) for c in senior_cards for p in c.discussion_prompts}
        for kept in old.discussion_prompts:
            if normalise(kept.text) in senior_texts:
                add(kept.text, kept.asked_by)
        goals = sorted({g for c in cards for g in topic_goals.get(c.id, set())})
        for g in goals:
            titles = " and ".join(c.title.lower() for c in cards)
            add(f"{mentee}, how could {titles} help you {pair.mentee.goals[g].rstrip('.').lower()}?", "mentor")
        if not any(p.asked_by in {"mentee", "both"} for p in prompts):
            add(
                f"{mentor}, where do you see {cards[0].title.lower()} used well by people in roles like mine?", "mentee"
            )
        if not any(p.asked_by in {"mentor", "both"} for p in prompts):
            add(f"{mentee}, which part of session {old.number} would you like to practise again?", "mentor")
        if last:
            add(f"{mentor} and {mentee}: what will each of you keep doing after the program?", "both")

        objectives = [fill(o, pair) for c in cards for o in c.objectives[:2]]
        objectives += [o for o in old.objectives if o.startswith(f"{mentor} learns from {mentee}")]
        if first:
            objectives.insert(0, f"Agree ground rules that make it safe for {mentee} and {mentor} to ask anything")
        if last:
            objectives.append("Review progress against the goals and agree next steps")
        pre_work = [fill(p, pair) for c in cards for p in c.pre_work[:2]]
        titles = ", ".join(c.title.lower() for c in cards)
        reflection = (
            closing_reflection(mentor, mentee)
            if last
            else [
                f"{mentee}: one thing to try before the next session ({titles})",
                *[r for r in old.reflection if r.startswith(f"{mentor}:")][:1],
                "Both: rate this session 1-5 and say what to change next time",
            ]
        )
        title = " & ".join(c.title for c in cards[:2]) + (f" (+{len(cards) - 2} more)" if len(cards) > 2 else "")
        if first:
            title = f"Getting started: ground rules, goals and {cards[0].title.lower()}"
        if last:
            title += ", then review and next steps"
        session_cards = [*[c for c in program_cards if c.id != CLOSING_CARD], *cards, *senior_cards]
        session_cards += [c for c in program_cards if c.id == CLOSING_CARD]
        new_left.append(
            old.model_copy(
                update={
                    "date": date,
                    "title": title,
                    "topics": [PlanTopic(id=c.id, title=c.title, domain=c.domain) for c in session_cards],
                    "objectives": objectives,
                    "pre_work": pre_work,
                    "agenda": agenda,
                    "discussion_prompts": prompts,
                    "reflection": reflection,
                    "citations": [Citation(topic_id=c.id, source=c.source) for c in session_cards],
                    "goals": goals,
                }
            )
        )
    sessions = sorted(held + new_left, key=lambda x: x.number)
    # A goal whose topics were all taught in held sessions stays with them; any other goal rides along.
    covered = {g for s in sessions for g in s.goals}
    for g in sorted({g for s in dropped for g in s.goals} - covered):
        if new_left:
            new_left[0].goals = sorted({*new_left[0].goals, g})

    parts = []
    if dropped:
        nums = ", ".join(str(s.number) for s in dropped)
        dest = ", ".join(str(s.number) for s in new_left)
        parts.append(f"session {nums} cancelled; topics not yet taught refitted into sessions {dest}")
    for n, date in sorted(moved.items()):
        parts.append(f"session {n} moved to {date.isoformat()}")
    reason = "re-planned: " + "; ".join(parts)
    new = plan.model_copy(
        update={
            "sessions": sessions,
            "notes": [*plan.notes, f"{today.isoformat()}: {reason}"],
        }
    )
    return new, reason


def replan_pair(settings: Settings, pair_id: str, reason: str | None = None) -> Plan:
    """Re-plan a stored pair after cancellations and store the result as a new version.

    Keeps the held sessions, drops the cancelled ones and fits the remaining topics into the
    sessions left (see `replan`). A pair without a plan gets its first plan instead.

    Args:
        settings: Database and knowledge base.
        pair_id: The stored pair's id (or a unique prefix).
        reason: Why, stored with the version; defaults to a summary of what changed.
    """
    from coach.knowledge import load_knowledge
    from coach.store import open_store

    store = open_store(settings)
    info = store.get_pair(pair_id)
    latest = store.get_plan(info.id)
    if latest is None:
        return plan_pair(settings, info.id, reason or "first plan (re-plan requested before any plan existed)")
    kb = load_knowledge(settings.kb_dirs)
    new, summary = replan(latest.plan, info.pair, store.session_status(info.id), kb)
    store.save_plan(info.id, new, f"{reason}: {summary}" if reason else summary)
    return new


def check_replan(old: Plan, new: Plan, status: dict[int, str], kb: KnowledgeBase) -> list[str]:
    """The rules a re-planned version must meet; [] when it meets them all.

    Held sessions unchanged; cancelled numbers gone; every mentor topic not yet taught is in a
    session left; each session's agenda adds up to its minutes and has a senior-led segment;
    prompts never repeat; every goal of the old plan is still served by some session.
    """
    from coach.checks import CLOSING_CARD, normalise

    errors: list[str] = []
    by_num = {s.number: s for s in new.sessions}
    for s in old.sessions:
        st = status.get(s.number)
        if st == "held" and by_num.get(s.number) != s:
            errors.append(f"held session {s.number} changed")
        if st == "cancelled" and s.number in by_num:
            errors.append(f"cancelled session {s.number} is still planned")
    held_topics = {t.id for s in new.sessions if status.get(s.number) == "held" for t in s.topics}
    left_topics = {t.id for s in new.sessions if status.get(s.number) != "held" for t in s.topics}
    for s in old.sessions:
        if status.get(s.number) == "held":
            continue
        for t in s.topics:
            card = kb.get(t.id)
            if card and card.domain in MENTOR_DOMAINS and t.id not in held_topics | left_topics:
                errors.append(f"topic {t.id!r} of session {s.number} was lost")
    seen: set[str] = set()
    for s in new.sessions:
        if sum(a.minutes for a in s.agenda) != s.minutes:
            errors.append(f"session {s.number}: agenda does not add up to {s.minutes} minutes")
        if not any(a.lead == "mentee" for a in s.agenda) or not any(t.domain in SENIOR_DOMAINS for t in s.topics):
            errors.append(f"session {s.number}: no senior-led segment")
        for p in s.discussion_prompts:
            key = normalise(p.text)
            if key in seen:
                errors.append(f"session {s.number}: repeated prompt {p.text!r}")
            seen.add(key)
        for t in s.topics:
            if kb.get(t.id) is None:
                errors.append(f"session {s.number}: unknown topic {t.id!r}")
    old_goals = {g for s in old.sessions for g in s.goals}
    new_goals = {g for s in new.sessions for g in s.goals}
    if old_goals - new_goals:
        errors.append(f"goals no longer served: {sorted(old_goals - new_goals)}")
    if new.sessions and CLOSING_CARD not in {t.id for t in new.sessions[-1].topics}:
        errors.append("the last session lacks the closing review")
    if not any(t.domain == PROGRAM_DOMAIN for s in new.sessions for t in s.topics):
        errors.append("no program-practice card left")
    return errors
