"""The eval suite: cases, evaluators that score plans and chat answers, the runner, run comparison and the report.

Every evaluator is a small class with a `name` and a `score(subject) -> Verdict` method that returns a
score in [0, 1] and a one-line reason. All are deterministic except `judge`, which asks a model and
runs only when `COACH_JUDGE_MODEL` is set. A score passes when it reaches the evaluator's threshold
in `evals/thresholds.yaml`; a suite passes when every evaluator's mean over the cases does.

Plan evaluators and what they own (each rule belongs to exactly one evaluator, so a planted defect
fails exactly one of them):

- structure: session count and numbering, session length, agenda minutes that add up, dates on the
  cadence, non-empty parts, kick-off in session 1 and closing review in the last session;
- coverage: every goal reaches a session that claims it and whose topics match it;
- grounding: topic and citation ids resolve, topics are cited, resources and quoted titles come from
  cited cards, no URL;
- order: prerequisites come before the cards that need them;
- balance: every session has a senior-led segment from a senior domain and prompts asked both ways,
  and the senior's share of the minutes stays in a band (see `BALANCE_BAND`);
- diversity: no near-duplicate prompts or activities, no degenerate repetition inside one text;
- personalization: names, roles and goals appear, and different pairs get different plans;
- tone_safety: no generational stereotype or demeaning term, no leaked system prompt, injected
  instructions not followed;
- readability: the Flesch-Kincaid grade of each session's prose stays in a band;
- chat (answers): citations resolve, the required cards are cited, "not covered" said when true;
- judge (optional): a model's rubric scores for relevance, actionability and tailoring.

Where things live:

- `cases`: the case and threshold files (`evals/` at the repository root) and their schemas and loaders;
- `evaluator`: `Verdict`, `Score`, the plan and chat subjects, and the `Evaluator` base classes;
- `structure` (structure, order, balance), `grounding` (coverage, grounding), `prose` (diversity,
  personalization, readability), `tone` (tone_safety), `chat` (chat) and `judge` (judge): the evaluators;
- `scoring`: which evaluators score plans and answers, and applying them;
- `results`: what a case produced and how it scored, and the whole run's JSON (SPEC.md section 6);
- `runner`: `run_suite`, producing each case on an engine and scoring it;
- `comparison`: a run against a baseline run, and a run cut down to another run's cases;
- `report`: the self-contained HTML report.

A new evaluator goes into the family module it belongs to (or a new one beside them), is listed in
`scoring.plan_evaluators` or `scoring.chat_evaluators`, named in `cases.PLAN_EVALUATORS` or
`cases.CHAT_EVALUATORS`, and given a threshold in `evals/thresholds.yaml`.

Nothing is imported here: import from the module that holds the name. Heavy libraries (rapidfuzz,
textstat, the retriever) are imported inside functions.
"""
