"""The per-function MongoDB roles as data: the command mapping the trace test relies on, and the
Atlas commands printed for operators (docs/DEPLOY.md, "MongoDB users")."""

from __future__ import annotations

import pytest

from secureface.adapters.mongo_access import (
    PRIVILEGES,
    atlas_commands,
    command_actions,
    role_privileges,
)
from secureface.cli import main


@pytest.mark.parametrize(
    ("name", "command", "expected"),
    [
        ("find", {"find": "templates"}, ("templates", {"find"})),
        ("insert", {"insert": "audit"}, ("audit", {"insert"})),
        ("delete", {"delete": "accepted"}, ("accepted", {"remove"})),
        ("createIndexes", {"createIndexes": "sessions"}, ("sessions", {"createIndex"})),
        (
            "update",
            {"update": "locks", "updates": [{"upsert": True}]},
            ("locks", {"update", "insert"}),
        ),
        ("update", {"update": "locks", "updates": [{}]}, ("locks", {"update"})),
        ("findAndModify", {"findAndModify": "sessions"}, ("sessions", {"find", "update"})),
        ("findAndModify", {"findAndModify": "s", "remove": True}, ("s", {"find", "remove"})),
        ("hello", {"hello": 1}, ("", set())),
    ],
)
def test_commands_map_to_the_privileges_mongodb_checks(
    name: str, command: dict[str, object], expected: tuple[str, set[str]]
) -> None:
    assert command_actions(name, command) == expected


def test_an_unmapped_command_is_an_error_not_a_free_pass() -> None:
    with pytest.raises(ValueError, match="drop"):
        command_actions("drop", {"drop": "templates"})


def test_atlas_commands_grant_exactly_the_roles(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mongo-roles", "--db", "sf"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == list(atlas_commands("sf")) and len(lines) == 2 * len(PRIVILEGES)
    for function in PRIVILEGES:
        create = next(line for line in lines if line.startswith("atlas customDbRoles create"))
        lines.remove(create)
        granted = create.split("--privilege ")[1].split(",")
        expected = [
            f"{a.upper() if a != 'createIndex' else 'CREATE_INDEX'}@{p['resource']['db']}"
            f".{p['resource']['collection']}"
            for p in role_privileges(function, "sf")
            for a in p["actions"]
        ]
        assert granted == expected
