"""Compose a whole curriculum from the cards alone: no model, same input gives the same plan."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from coach.checks import CLOSING_CARD, GOALS_CARD, KICKOFF_CARD, normalise, session_date
from coach.models import (
    MENTOR_DOMAINS,
    SENIOR_DOMAINS,
    Activity,
    AgendaItem,
    Card,
    Citation,
    DiscussionPrompt,
    Lead,
    Pair,
    PersonRef,
    Plan,
    PlanTopic,
    Session,
)

if TYPE_CHECKING:
    from coach.retrieval import Retriever

LEVEL_RANK = {"intro": 0, "intermediate": 1, "advanced": 2}
#: How many minutes a session needs per main topic before it gets a second one.
MINUTES_PER_TOPIC = 40
#: A card counts as serving a goal when its score is at least this share of the goal's best card.
GOAL_MATCH_SHARE = 0.6
#: A goal's depth topics come from its this-many most relevant cards first.
RELEVANT_DEPTH = 5


def fill(text: str, pair: Pair) -> str:
    """Replace the card placeholders {mentor}, {mentee}, {mentor_role}, {mentee_role}."""
    values = {
        "{mentor}": pair.mentor.name,
        "{mentee}": pair.mentee.name,
        "{mentor_role}": pair.mentor.role,
        "{mentee_role}": pair.mentee.role,
    }
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def comfort_weight(pair: Pair, domain: str) -> float:
    """Low comfort pulls a domain forward: 1 -> 1.5, unrated or 3 -> 1.0, 5 -> 0.5."""
    return 1.0 + (3 - pair.mentee.comfort.get(domain, 3)) / 4  # type: ignore[call-overload]


@dataclass
class Block:
    """One agenda block before its minutes are fitted to the session length."""

    activity: str
    lead: Lead
    weight: float
    mandatory: bool
    priority: int = 0  # among optional blocks, lower is added first
    topic: bool = False  # teaches a junior-taught card
    key: tuple[str, int] | None = None  # (card id, activity index) of a card activity


def check_in() -> Block:
    """The opening block of every session but the first."""
    return Block("Check-in: what each of you tried since last time, and any questions", "both", 5, False, 2)


def wrap_up() -> Block:
    """The closing block of every session but the last."""
    return Block("Wrap-up: one thing to try before next time, and rate the session", "both", 4, False, 0)


@dataclass
class Selection:
    """The mentor-taught cards chosen for the pair and the goals each one serves."""

    cards: list[Card] = field(default_factory=list)
    goals: dict[str, set[int]] = field(default_factory=dict)


def select_topics(pair: Pair, retriever: Retriever, slots: int, served: list[bool] | None = None) -> Selection:
    """Pick junior-taught cards: every goal first, then depth, weighted by comfort and strengths.

    Goals no card serves (`served` False) neither pick cards nor get them as theirs, unless no goal is
    served at all: then their nearest cards still fill the sessions, claiming no goal.
    """
    kb = retriever.kb
    domains = set(MENTOR_DOMAINS)
    pool = [c for c in kb.cards if c.domain in domains]
    k = len(pool)
    strength_boost: dict[str, float] = {}
    if pair.mentor.strengths:
        for hits in retriever.search_many(pair.mentor.strengths, k=3, domains=domains):
            for rank, h in enumerate(hits):
                strength_boost[h.card.id] = max(strength_boost.get(h.card.id, 1.0), 1.25 - 0.05 * rank)
    # Relevance alone decides which cards cover a goal; comfort and strengths then weight the extra depth.
    relevant: list[list[tuple[float, Card]]] = []
    ranked: list[list[tuple[float, Card]]] = []
    tops: list[set[str]] = []
    for hits in retriever.search_many(pair.mentee.goals, k=k, domains=domains):
        relevant.append([(h.score, h.card) for h in hits])
        scored = [
            (h.score * comfort_weight(pair, h.card.domain) * strength_boost.get(h.card.id, 1.0), h.card) for h in hits
        ]
        # Weights reorder the goal's most relevant cards; they never pull an unrelated card ahead of them
        # (a strength, even a hostile one, must not steer a goal away from its topic).
        top = {h.card.id for h in hits[:RELEVANT_DEPTH]}
        scored.sort(key=lambda sc: (sc[1].id not in top, -sc[0], sc[1].id))
        ranked.append(scored)
        tops.append(top)

    sel = Selection()
    chosen: set[str] = set()

    def take(card: Card) -> None:
        if card.id not in chosen:
            chosen.add(card.id)
            sel.cards.append(card)

    served = served if served is not None else [True] * len(relevant)
    if any(served):
        for gi, ok in enumerate(served):
            if not ok:
                relevant[gi], ranked[gi] = [], []
    # The cards that serve each goal well enough to count as covering it.
    for gi, scored in enumerate(relevant if any(served) else []):
        if not scored:
            continue
        best = scored[0][0]
        for score, card in scored[:5]:
            if score >= GOAL_MATCH_SHARE * best:
                sel.goals.setdefault(card.id, set()).add(gi)
    # Round 1: the most relevant card for every goal, so each goal is covered.
    for scored in relevant:
        if scored:
            take(scored[0][1])
    # Further rounds: each goal offers its next card (its most relevant ones first); the highest
    # weighted offer wins, so low comfort and the mentor's strengths decide where the depth goes.
    cursor = [0] * len(ranked)

    def offer(gi: int) -> tuple[bool, float, Card] | None:
        scored = ranked[gi]
        while cursor[gi] < len(scored) and scored[cursor[gi]][1].id in chosen:
            cursor[gi] += 1
        if cursor[gi] >= len(scored):
            return None
        score, card = scored[cursor[gi]]
        return card.id in tops[gi], score, card

    while len(sel.cards) < slots:
        offers = [(gi, o) for gi in range(len(ranked)) if (o := offer(gi)) is not None]
        if not offers:
            break
        gi, (_, _, card) = min(offers, key=lambda go: (not go[1][0], -go[1][1], go[0]))
        cursor[gi] += 1
        for pre in card.prerequisites:
            pre_card = kb.get(pre)
            if pre_card and pre_card.domain in domains and len(sel.cards) < slots - 1:
                take(pre_card)
        take(card)
    return sel


def order_topics(cards: list[Card]) -> list[Card]:
    """Prerequisites first, then intro before advanced, then selection order."""
    rank = {c.id: i for i, c in enumerate(cards)}
    ids = set(rank)
    placed: list[Card] = []
    done: set[str] = set()
    remaining = list(cards)
    while remaining:
        ready = [c for c in remaining if all(p in done or p not in ids for p in c.prerequisites)]
        if not ready:  # a cycle cannot pass validation, but never loop forever
            ready = remaining
        nxt = min(ready, key=lambda c: (LEVEL_RANK[c.level], rank[c.id]))
        placed.append(nxt)
        done.add(nxt.id)
        remaining.remove(nxt)
    return placed


def split_evenly(items: list[Card], n: int) -> list[list[Card]]:
    """Split items over n sessions; the first and last (which carry kick-off and review) get fewer."""
    if n == 1:
        return [items]
    base, extra = divmod(len(items), n)
    sizes = [base] * n
    # Middle sessions take the extra topics first.
    order = [*range(1, n - 1), 0, n - 1]
    for i in order[:extra]:
        sizes[i] += 1
    out, pos = [], 0
    for size in sizes:
        out.append(items[pos : pos + size])
        pos += size
    # A session left without a topic of its own practises the previous one.
    for i in range(n):
        if not out[i]:
            prev = next((out[j] for j in range(i - 1, -1, -1) if out[j]), None) or next(o for o in out if o)
            out[i] = [prev[-1]]
    return out


def fit_minutes(blocks: list[Block], total: int) -> list[AgendaItem]:
    """Choose blocks and give them minutes that add up to `total` exactly."""
    floor = 2 if total >= 2 * len([b for b in blocks if b.mandatory]) else 1
    chosen = [b for b in blocks if b.mandatory]
    for b in sorted((b for b in blocks if not b.mandatory), key=lambda b: b.priority):
        if floor * (len(chosen) + 1) <= total and (total / (len(chosen) + 1)) >= 4:
            chosen.append(b)
    chosen.sort(key=blocks.index)
    weight = sum(b.weight for b in chosen)
    raw = [b.weight / weight * total for b in chosen]
    minutes = [max(floor, math.floor(r)) for r in raw]
    # Take back from the largest blocks if the floors overshot, then hand out what is left.
    while sum(minutes) > total:
        i = max(range(len(minutes)), key=lambda i: (minutes[i], -i))
        minutes[i] -= 1
    by_remainder = sorted(range(len(chosen)), key=lambda i: (-(raw[i] - math.floor(raw[i])), i))
    j = 0
    while sum(minutes) < total:
        minutes[by_remainder[j % len(by_remainder)]] += 1
        j += 1
    return [AgendaItem(minutes=m, activity=b.activity, lead=b.lead) for b, m in zip(chosen, minutes, strict=True)]


class _Prompts:
    """Collects discussion prompts for the whole plan so none repeats."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def add(self, out: list[DiscussionPrompt], text: str, asked_by: Lead) -> bool:
        key = normalise(text)
        if not key or key in self.seen:
            return False
        self.seen.add(key)
        out.append(DiscussionPrompt(text=text, asked_by=asked_by))
        return True


def pick_senior_cards(pair: Pair, retriever: Retriever, sessions: list[list[Card]]) -> list[Card]:
    """One senior-taught card per session, relevant to its topics and the senior's role, varied."""
    domains = set(SENIOR_DOMAINS)
    k = len([c for c in retriever.kb.cards if c.domain in domains])
    queries = [f"{pair.mentee.role}: " + "; ".join(c.title for c in topics) for topics in sessions]
    used: dict[str, int] = {}
    picks: list[Card] = []
    for hits in retriever.search_many(queries, k=k, domains=domains):
        # A card whose prerequisite has not been taught yet must wait, or the plan's order breaks.
        ready = [h for h in hits if all(p in used for p in h.card.prerequisites)] or hits
        # Prefer the least used card, then relevance.
        best = min(enumerate(ready), key=lambda ih: (used.get(ih[1].card.id, 0), ih[0]))[1].card
        used[best.id] = used.get(best.id, 0) + 1
        picks.append(best)
    return picks


def senior_activity(card: Card, occurrence: int) -> tuple[str, float]:
    """The segment the senior leads from a senior-domain card; a card used again moves on, never repeats.

    Its activities led by the senior come first; a long program that returns to the card builds the
    segment around one of its key concepts instead.
    """
    acts = [a for a in card.activities if a.lead == "mentee"] or card.activities
    if occurrence < len(acts):
        from coach.wording import agenda_line

        act = acts[occurrence]
        return agenda_line(act.title, act.description), float(act.minutes)
    concept = card.key_concepts[(occurrence - len(acts)) % len(card.key_concepts)]
    return f"{concept.term}, told through a decision from their own career. {concept.meaning}", float(acts[0].minutes)


def closing_reflection(mentor: str, mentee: str) -> list[str]:
    """The reflection questions of the program's last session (also kept by a re-plan)."""
    return [
        f"{mentee}: what changed in how you work since session 1?",
        f"{mentor}: what did you learn about leading and strategy from {mentee}?",
        "Both: continue, change the focus, or close the pairing?",
    ]


#: Prompts that tie a session to each goal it serves; a session serving several goals varies the wording.
#: Each names at most one topic (the session's main idea) and quotes the goal in the mentee's own words.
GOAL_PROMPTS: tuple[tuple[str, Lead], ...] = (
    ("{mentee}, how could {idea} help you {goal}?", "mentor"),
    ("{mentee}, what first small step towards {quoted} could you take before we meet again?", "mentor"),
    ("{mentor}, where have you seen someone do this well: {quoted}?", "mentee"),
)


def _activities(card: Card, used: set[tuple[str, int]], variant: int, practice: bool) -> list[tuple[int, Activity]]:
    """A card's activities for a session: ones not run yet first (hands-on ones when practising), rotated by variant."""
    acts = list(enumerate(card.activities))
    if practice:
        acts = [ja for ja in acts if ja[1].format in {"hands-on", "exercise", "role-play"}] or acts
    if variant and len(acts) > 2:  # the first (who teaches it) stays; the rest come in another order
        rest = acts[1:]
        k = variant % len(rest)
        acts = [acts[0], *rest[k:], *rest[:k]]
    fresh = [ja for ja in acts if (card.id, ja[0]) not in used]
    if practice:  # a practice session runs only what is new (see `practice_block` when nothing is)
        return fresh
    return fresh + [ja for ja in acts if (card.id, ja[0]) in used]


def practice_line(card: Card, round_: int, pair: Pair) -> str:
    """A practice block built on one of a card's key concepts, for a card whose activities have all run."""
    from coach.wording import agenda_line

    concept = card.key_concepts[round_ % len(card.key_concepts)]
    return agenda_line(
        f"Practise {concept.term}",
        f"{pair.mentee.name} applies it to a real task of their own while {pair.mentor.name} coaches. {concept.meaning}",
    )


def build_plan(pair: Pair, retriever: Retriever, variant: int = 0) -> Plan:
    """The whole curriculum for a pair from the cards alone.

    Args:
        pair: The pair file.
        retriever: Search over the cards.
        variant: 0 for the standard plan; another number gives a different valid variant (other
            activities and prompts of the same cards), for "Regenerate".
    """
    from coach.checks import served_goals
    from coach.wording import (
        agenda_line,
        goal_phrase,
        learns,
        main_idea,
        mid_sentence,
        pre_work_line,
        proper_words,
        quoted,
        session_title,
        success_measures,
    )

    kb = retriever.kb
    prog = pair.program
    n = prog.sessions
    mentor, mentee = pair.mentor.name, pair.mentee.name
    proper = proper_words(kb)
    served = served_goals(pair.mentee.goals, retriever)
    per_session = max(1, prog.minutes // MINUTES_PER_TOPIC)
    available = len([c for c in kb.cards if c.domain in MENTOR_DOMAINS])
    slots = min(available, max(len(pair.mentee.goals), n * per_session))
    sel = select_topics(pair, retriever, slots, served)
    topics_by_session = split_evenly(order_topics(sel.cards), n)
    seniors = pick_senior_cards(pair, retriever, topics_by_session)
    kickoff, goal_card, closing = kb.get(KICKOFF_CARD), kb.get(GOALS_CARD), kb.get(CLOSING_CARD)
    if kickoff is None or goal_card is None or closing is None:
        from coach.errors import CoachError

        raise CoachError(f"the knowledge base needs the cards {KICKOFF_CARD}, {GOALS_CARD} and {CLOSING_CARD}")

    prompts = _Prompts()
    taught_before: set[str] = set()
    used_acts: set[tuple[str, int]] = set()
    senior_seen: dict[str, int] = {}
    goal_prompts_used: dict[int, set[int]] = {}
    practised: dict[str, int] = {}
    sessions: list[Session] = []
    for i, topics in enumerate(topics_by_session):
        number = i + 1
        first, last = i == 0, i == n - 1
        date = session_date(prog.start, prog.cadence, i)
        senior = seniors[i]
        occurrence = senior_seen.get(senior.id, 0) + (variant % 2 if senior.id not in senior_seen else 0)
        senior_seen[senior.id] = occurrence + 1
        repeat = [c for c in topics if c.id in taught_before]
        ideas = [main_idea(c) for c in topics]
        blocks: list[Block] = []
        if first:
            blocks.append(
                Block(
                    f"Introductions: {mentor} and {mentee} share their roles, careers so far and hopes",
                    "both",
                    5,
                    False,
                )
            )
            a = kickoff.activities[0]
            blocks.append(
                Block(agenda_line("Ground rules and psychological safety", a.description), "both", a.minutes, True)
            )
            g = goal_card.activities[0]
            blocks.append(Block(agenda_line("Goal setting", g.description), "both", g.minutes, True))
        else:
            blocks.append(check_in())
        for card in topics:
            chosen = _activities(card, used_acts, variant, card.id in repeat)
            if not chosen:
                practised[card.id] = practised.get(card.id, -1) + 1
                blocks.append(Block(practice_line(card, practised[card.id], pair), "mentee", 10, True, 1, topic=True))
            for j, (k, act) in enumerate(chosen):
                label = agenda_line(act.title, fill(act.description, pair))
                blocks.append(Block(label, act.lead, act.minutes, j == 0, 1 + j, topic=True, key=(card.id, k)))
        text, weight = senior_activity(senior, occurrence)
        # The senior's segment is never a token one: at least a quarter of the other fixed blocks' weight.
        others = sum(b.weight for b in blocks if b.mandatory) + (closing.activities[0].minutes if last else 0)
        blocks.append(Block(fill(text, pair), "mentee", max(weight, others / 4), True))
        if last:
            c = closing.activities[0]
            blocks.append(
                Block(agenda_line("Review of progress and next steps", c.description), "both", c.minutes, True)
            )
        else:
            blocks.append(wrap_up())
        # Many topics in a very short session: teach them as one quick tour rather than crumbs.
        if len([b for b in blocks if b.mandatory]) > prog.minutes // 2:
            at = next(k for k, b in enumerate(blocks) if b.topic)
            tour = Block("Quick tour of " + ", ".join(mid_sentence(x, proper) for x in ideas), "mentor", 10, True)
            rest = [b for b in blocks if not b.topic]
            blocks = [*rest[:at], tour, *rest[at:]]
        agenda = fit_minutes(blocks, prog.minutes)
        kept = {a.activity for a in agenda}
        used_acts.update(b.key for b in blocks if b.key is not None and b.activity in kept)

        program_cards = [kickoff, goal_card] if first else []
        if last:
            program_cards.append(closing)
        session_cards = [*program_cards, *{c.id: c for c in topics}.values(), senior]
        goals = sorted({g for c in topics for g in sel.goals.get(c.id, set())})

        plist: list[DiscussionPrompt] = []
        if first:
            for p in kickoff.discussion_prompts[:2]:
                prompts.add(plist, fill(p.text, pair), p.asked_by)
        for card in topics:
            own = card.discussion_prompts[:3] if card.id not in repeat else card.discussion_prompts[3:]
            if variant and len(card.discussion_prompts) > 3 and card.id not in repeat:
                own = card.discussion_prompts[variant % 2 + 1 :][:3]
            for p in own:
                prompts.add(plist, fill(p.text, pair), p.asked_by)
        idea = mid_sentence(ideas[0], proper) if ideas else "this"
        for gi in goals:
            # Each goal gets each wording once over the plan (near-identical questions would repeat).
            left = [t for t in range(len(GOAL_PROMPTS)) if t not in goal_prompts_used.setdefault(gi, set())]
            if not left:
                continue
            t = left[(number + variant) % len(left)]
            goal_prompts_used[gi].add(t)
            template, asked_by = GOAL_PROMPTS[t]
            goal = pair.mentee.goals[gi]
            text = template.format(
                mentee=mentee, mentor=mentor, idea=idea, goal=goal_phrase(goal, proper), quoted=quoted(goal)
            )
            prompts.add(plist, text, asked_by)
        for p in senior.discussion_prompts[occurrence % 2 :][:2]:
            prompts.add(plist, fill(p.text, pair), p.asked_by)
        if not any(p.asked_by in {"mentee", "both"} for p in plist):
            prompts.add(plist, f"{mentor}, where do you see {idea} used well by people in roles like mine?", "mentee")
        if not any(p.asked_by in {"mentor", "both"} for p in plist):
            prompts.add(plist, f"{mentee}, what would you like to practise next in session {number + 1}?", "mentor")
        if last:
            prompts.add(plist, f"{mentor} and {mentee}, what will each of you keep doing after the program?", "both")

        objectives = []
        if first:
            objectives += [
                f"Agree ground rules that make it safe for {mentee} and {mentor} to ask anything",
                f"Turn {mentee}'s goals into two or three measurable outcomes",
            ]
        for card in topics:
            objectives += [fill(o, pair) for o in card.objectives[:2]]
        lesson = fill(senior.objectives[occurrence % len(senior.objectives)], pair)
        # "Priya Shah learns from Robert Klein (CFO) to map their network": "your network" read as his.
        objectives.append(learns(mentor, lesson, f"{mentee} ({pair.mentee.role})"))
        if last:
            objectives.append("Review progress against the goals and agree next steps")

        pre_work = (
            [f"Both: note what you hope to get out of the pairing, starting from {mentee}'s goals in this plan"]
            if first
            else []
        )
        if first:
            for gi, ok in enumerate(served):
                if not ok:
                    pre_work.append(
                        f"Both: no card covers {quoted(pair.mentee.goals[gi])} yet, so this plan does not; "
                        "agree whether to reword it or find another source"
                    )
        for card in topics:
            pre_work += [pre_work_line(fill(p, pair), pair.mentor.name, pair.mentee.name) for p in card.pre_work[:2]]
        if last:
            pre_work.append(f"{mentee}: rate your comfort again, 1-5, in each area you set out to learn")

        nxt = session_date(prog.start, prog.cadence, i + 1)
        reflection = (
            closing_reflection(mentor, mentee)
            if last
            else [
                f"{mentee}: one thing to try with {idea} before {nxt.strftime('%d %b')}",
                f"{mentor}: one insight from {mentee} on {mid_sentence(main_idea(senior), proper)} that you will use",
                "Both: rate this session 1-5 and say what to change next time",
            ]
        )
        taught_before.update(c.id for c in topics)
        practice = bool(repeat) and len(repeat) == len(topics)
        title = session_title(ideas, proper, first=first, last=last, practice=practice)
        sessions.append(
            Session(
                number=number,
                date=date,
                title=title,
                minutes=prog.minutes,
                topics=[PlanTopic(id=c.id, title=c.title, domain=c.domain) for c in session_cards],
                objectives=objectives,
                pre_work=pre_work,
                agenda=agenda,
                discussion_prompts=plist,
                reflection=reflection,
                citations=[Citation(topic_id=c.id, source=c.source) for c in session_cards],
                goals=goals,
            )
        )
    # Served goals with no session (the same card best for two goals is fine; none at all is not).
    covered = {g for s in sessions for g in s.goals}
    for gi in range(len(pair.mentee.goals)):
        if gi not in covered and served[gi]:
            best = _best_session_for_goal(pair, retriever, gi, sessions)
            sessions[best].goals = sorted({*sessions[best].goals, gi})
    touched: set[str] = set()
    wanted = [g for g, ok in zip(pair.mentee.goals, served, strict=True) if ok]
    if wanted:
        for hits in retriever.search_many(wanted, k=5, domains=set(MENTOR_DOMAINS)):
            touched |= {h.card.domain for h in hits}
    plan = Plan(
        mentor=PersonRef(name=mentor, role=pair.mentor.role),
        mentee=PersonRef(name=mentee, role=pair.mentee.role),
        ground_rules=ground_rules(pair),
        success_measures=success_measures(pair, sessions, served, touched),
        sessions=sessions,
        goals=list(pair.mentee.goals),
        uncovered_goals=[g for g, ok in zip(pair.mentee.goals, served, strict=True) if not ok],
    )
    from coach.doc_answers import for_sessions

    for_sessions(plan, retriever)
    return plan


def _best_session_for_goal(pair: Pair, retriever: Retriever, gi: int, sessions: list[Session]) -> int:
    """The session whose topics rank highest for a goal that selection left uncovered."""
    hits = retriever.search(pair.mentee.goals[gi], k=len(retriever.kb.cards), domains=set(MENTOR_DOMAINS))
    rank = {h.card.id: r for r, h in enumerate(hits)}
    return min(
        range(len(sessions)),
        key=lambda i: (min((rank.get(t.id, 10**6) for t in sessions[i].topics), default=10**6), i),
    )


def ground_rules(pair: Pair) -> list[str]:
    """The ground rules both sides agree in session 1."""
    mentor, mentee = pair.mentor.name, pair.mentee.name
    return [
        f"What is said in the sessions stays between {mentor} and {mentee} unless both agree to share it.",
        f"No question is too basic: {mentee} says openly what is new, and {mentor} explains without jargon.",
        f"Learning runs both ways: every session has a segment {mentee} leads on strategy, leadership or career.",
        "Feedback is specific, kind and given both ways at the end of each session.",
        "Protect the slot: move a session rather than cancel it, with at least two working days' notice.",
        "Use company-approved tools; never paste confidential or customer data into a public AI assistant.",
    ]
