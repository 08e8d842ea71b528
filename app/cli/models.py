"""`digits models`: the registry's versions, as the admin API has them: list, activate, delete.

The same registry calls as /api/admin/models: activating checks the version's file (its checksum,
and that it is a 784-in digit model) and a running server follows within about a second; the
active version cannot be deleted.
"""

from __future__ import annotations

import sys

from app.cli.common import add_command, stores


def add_parser(sub) -> None:
    m = add_command(
        sub,
        "models",
        "the model versions: list them, activate one (roll back or forward), delete one",
        "List the registry's model versions, newest first, with their network and figures "
        "(the default action); activate one, which every running server then serves within "
        "about a second; or delete one that is not active.",
    )
    m.add_argument(
        "action",
        nargs="?",
        choices=["list", "activate", "delete"],
        default="list",
        help="what to do",
    )
    m.add_argument("version", nargs="?", help="the version to activate or delete")
    m.add_argument("--yes", action="store_true", help="delete without asking first")
    m.set_defaults(run=run)


def run(args) -> int:
    registry = stores().registry
    registry.ensure_initialised()  # a fresh data home gets the shipped model, as the server does
    if args.action == "list":
        if args.version:
            raise ValueError("'digits models list' takes no version")
        print(listing(registry.metas(), registry.active_version()))
        return 0
    if not args.version:
        raise ValueError(
            f"'digits models {args.action}' needs a version: 'digits models' lists them"
        )
    if args.action == "activate":
        registry.activate(args.version)
        print(
            f"{args.version} is now the active model; running servers switch to it within "
            "about a second"
        )
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            raise ValueError(
                "deleting a model cannot be undone: add --yes to delete without asking"
            )
        answer = input(f"Delete model {args.version}? This cannot be undone. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing was deleted")
            return 1
    registry.delete(args.version)
    print(f"{args.version} deleted")
    return 0


def listing(metas: list[dict], active: str | None) -> str:
    """The versions as a table, newest first, the active one marked with *."""
    rows = [("", "VERSION", "CREATED", "NETWORK", "MNIST TEST", "DRAWINGS", "PARENT")]
    for meta in metas:
        metrics = meta.get("metrics") or {}
        accuracy = metrics.get("mnist_test_accuracy")
        held, held_size = metrics.get("feedback_accuracy"), metrics.get("feedback_size")
        gate = meta.get("gate") or {}
        version = meta.get("version", "?")
        if gate.get("forced") and not gate.get("passed"):
            version += " (forced)"
        rows.append(
            (
                "*" if meta.get("version") == active else "",
                version,
                str(meta.get("created", ""))[:16].replace("T", " "),
                "-".join(map(str, meta.get("sizes") or [])) + f" {meta.get('activation', '')}",
                "–" if accuracy is None else f"{accuracy:.2%}",
                "–" if not held_size else f"{held:.2%} of {held_size}",
                meta.get("parent") or "–",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines) + "\n* the active version (the one the app serves)"
