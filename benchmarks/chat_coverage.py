"""Fit the "not covered" rule on the tune half of the blind chat set, and report both halves.

    python benchmarks/chat_coverage.py            # report with the stored rule (evals/coverage.yaml)
    python benchmarks/chat_coverage.py --fit      # refit on the tune half, write evals/coverage.yaml, report
    python benchmarks/chat_coverage.py --tune-only  # while tuning: report the tune half alone

The rule (coach/coverage.py) is a logistic regression on the evidence features (FEATURES), fitted by Newton's
method with a small L2 penalty on the tune half's single questions and first turns only (the out-of-scope
lexicon is not fitted but added with its fixed weight); the threshold is the one with
the best F1 for "not covered" on the tune half. The held-out half is never looked at while fitting.

For each half it prints: precision and recall of "not covered" (answers of the offline chat, single
questions and conversation turns), the share of covered questions whose answer cites an acceptable
card, and how often the intent, session, side and lesson length asked for were followed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from coach.chat_search import search  # noqa: E402
from coach.config import load_settings  # noqa: E402
from coach.coverage import COVERAGE_FILE, FEATURES, OUT_OF_SCOPE_WEIGHT, CoverageRule, features_for  # noqa: E402
from coach.evals.blind import BLIND_SETS, HALVES, load_all, set_of  # noqa: E402
from coach.retrieval import get_retriever  # noqa: E402


def names_of(case) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    return (case.pair.mentor.name, case.pair.mentee.name) if case.pair else ()


def fit(x: np.ndarray, y: np.ndarray, l2: float = 0.1) -> np.ndarray:
    """Logistic regression weights (bias first) by Newton's method."""
    xb = np.c_[np.ones(len(x)), x]
    w = np.zeros(xb.shape[1])
    reg = l2 * np.diag(np.r_[0.0, np.ones(xb.shape[1] - 1)])
    for _ in range(100):
        p = 1 / (1 + np.exp(-xb @ w))
        grad = xb.T @ (p - y) + reg @ w
        hess = (xb.T * (p * (1 - p))) @ xb + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def precision_recall(pred: list[bool], truth: list[bool]) -> tuple[float, float]:
    tp = sum(p and t for p, t in zip(pred, truth, strict=True))
    return tp / max(1, sum(pred)), tp / max(1, sum(truth))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fit", action="store_true", help="refit on the tune half and write evals/coverage.yaml")
    ap.add_argument(
        "--tune-only",
        action="store_true",
        help="load and report the tune half only (iterate without looking at the held-out half)",
    )
    args = ap.parse_args()
    settings = load_settings()
    retriever = get_retriever(settings)
    cases = load_all(kb=retriever.kb, halves=("tune",) if args.tune_only else HALVES)
    if args.fit:
        tune = [c for c in cases if c.half == "tune" and not c.history]
        hits = [search(c.question, retriever, k=3) for c in tune]  # the chat's own search (coverage.assess)
        feats = [features_for(c.question, h, retriever, names_of(c)) for c, h in zip(tune, hits, strict=True)]
        # The out-of-scope lexicon is not fitted: the rule is fitted as if it did not exist (so it stays as
        # strict with questions that name no such field) and the lexicon adds its fixed weight on top.
        fitted = [f for f in FEATURES if f != "out_of_scope"]
        x = np.array([[f[k] for k in fitted] for f in feats])
        lexicon = np.array([f["out_of_scope"] for f in feats])
        y = np.array([0.0 if c.expect.covered else 1.0 for c in tune])
        w = fit(x, y)
        p = 1 / (1 + np.exp(-(np.c_[np.ones(len(x)), x] @ w + OUT_OF_SCOPE_WEIGHT * lexicon)))
        best = (0.0, 0.5)
        for th in np.arange(0.2, 0.81, 0.02):
            prec, rec = precision_recall(list(p >= th), list(y == 1))
            f1 = 2 * prec * rec / max(1e-9, prec + rec)
            if f1 > best[0] + 1e-9:
                best = (f1, float(th))
        weights = {f: float(v) for f, v in zip(fitted, w[1:], strict=True)} | {"out_of_scope": OUT_OF_SCOPE_WEIGHT}
        rule = CoverageRule(float(w[0]), weights, best[1])
        lines = [
            "# The calibrated 'not covered' rule (coach/coverage.py): p = sigmoid(bias + sum(weight * feature)),",
            "# not covered when p >= threshold. Fitted by benchmarks/chat_coverage.py --fit on the TUNE half of",
            f"# every blind set ({', '.join(BLIND_SETS)}) only ({len(tune)} questions: single ones and first turns,",
            f"# {int(y.sum())} not covered).",
            "# out_of_scope is not fitted: it is coach.coverage.OUT_OF_SCOPE_WEIGHT, added on top of the fitted rule.",
            f"bias: {rule.bias:.4f}",
            "weights:",
            *[f"  {k}: {v:.4f}" for k, v in rule.weights.items()],
            f"threshold: {rule.threshold:.2f}",
        ]
        COVERAGE_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {COVERAGE_FILE.relative_to(ROOT)} (tune F1 of 'not covered' {best[0]:.3f})")
        import coach.coverage

        coach.coverage._RULE.clear()
    report(cases, retriever)


def report(cases, retriever) -> None:  # type: ignore[no-untyped-def]
    from coach.answers import ChatContext
    from coach.chains import cited_ids
    from coach.conversation import Conversation

    started = time.perf_counter()
    rows = []
    conv: Conversation | None = None
    for c in cases:
        if not c.history:
            conv = Conversation(ChatContext(retriever, c.pair, None, c.role))
        assert conv is not None
        turn = conv.turn(c.question)
        for _ in turn:
            pass
        a = turn.answer
        assert a is not None
        rows.append((c, a, turn.intent, cited_ids(a.text)))
    print(f"{len(rows)} answers in {time.perf_counter() - started:.1f}s")
    print(f"{'set':3} {'half':9} {'n':>4} {'NC prec':>8} {'NC rec':>7} {'cited ok':>9} {'expect ok':>10}")
    for name, half in ((name, half) for name in BLIND_SETS for half in HALVES):
        mine = [r for r in rows if r[0].half == half and set_of(r[0]) == name]
        if not mine:
            continue
        pred = [not a.covered for _, a, _, _ in mine]
        truth = [not c.expect.covered for c, _, _, _ in mine]
        prec, rec = precision_recall(pred, truth)
        covered = [(c, ids) for c, a, _, ids in mine if c.expect.covered]
        ok = sum(1 for c, ids in covered if set(ids) & set(c.expect.cite_any))
        checks = passed = 0
        for c, a, intent, _ in mine:
            e = c.expect
            for want, got in (
                (e.intent, a.intent),
                (e.session, intent.session if intent.kind == "briefing" else None),
                (e.minutes, intent.minutes if intent.kind == "lesson" else None),
                (e.side, (intent.side or ("mentor" if c.role == "mentor" else "mentee")) if e.side else None),
            ):
                if want is not None:
                    checks += 1
                    passed += want == got
        print(
            f"{name:3} {half:9} {len(mine):>4} {prec:>8.3f} {rec:>7.3f} {ok / max(1, len(covered)):>9.3f} {passed}/{checks:<8}"
        )
    # Only the tune half's misses are listed: the held-out half is for reporting, not for looking at.
    for c, a, _, ids in (r for r in rows if r[0].half == "tune"):
        miss = c.expect.covered and not set(ids) & set(c.expect.cite_any)
        wrong_nc = (not a.covered) != (not c.expect.covered)
        if miss or wrong_nc:
            print(f"  {c.id:16} {c.half:8} {'NC' if not a.covered else 'cov':3} {c.question[:60]!r} cites {ids[:3]}")


if __name__ == "__main__":
    main()
