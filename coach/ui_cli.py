"""`coach ui`: index the knowledge base if needed, then start the web app."""

from __future__ import annotations

import click


@click.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Interface to listen on (others need COACH_ADMIN_PASSWORD)."
)
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option(
    "--share/--no-share",
    default=False,
    show_default=True,
    help="Ask Gradio for a public share link (needs COACH_ADMIN_PASSWORD).",
)
def ui(host: str, port: int, share: bool) -> None:
    """Start the web app (Coach, Plan, Knowledge, Program, Evals) at http://HOST:PORT."""
    import os

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from rich.progress import Progress

    from ui.app import check_bind, launch, warm_up

    check_bind(host, share)  # before any slow work: refuse an open bind at once
    from coach.config import load_settings
    from coach.index import build_index
    from coach.knowledge import load_knowledge

    settings = load_settings()
    kbase = load_knowledge(settings.kb_dirs)
    with Progress(transient=True) as bar:
        task = bar.add_task("indexing the knowledge base", total=len(kbase.cards))

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = build_index(settings, kbase, progress=progress)
    click.echo(f"knowledge base: {report.cards} cards indexed ({report.embedded} embedded now)")

    warm_up()
    from ui import heavy

    # The served app runs plans and revisions in worker processes, so they do not hold the interpreter
    # the chat needs (set here, not in launch(): a test that launches in its own process keeps threads).
    heavy.use_processes(True)
    if not settings.admin_password:
        click.echo("admin views are open: COACH_ADMIN_PASSWORD is not set, so the app listens on this computer only")
    click.echo(
        f"Mentor Coach is running at http://{'127.0.0.1' if host in {'0.0.0.0', '::'} else host}:{port}  (Ctrl+C to stop)"
    )
    launch(host=host, port=port, share=share, quiet=True)
