"""Read ``template.yaml``: the HTTP API routes, their functions and environments.

The local API serves exactly what the SAM template declares, so the two cannot drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short tags (``!Ref x``) into ``{"Ref": x}`` maps."""


def _construct_tag(loader: _CfnLoader, tag_suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> dict[str, Any]:
    """Parse a CloudFormation/SAM template with short tags."""
    return dict(yaml.load(path.read_text(), Loader=_CfnLoader))  # noqa: S506  # nosec B506 - SafeLoader subclass


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function as the template declares it."""

    logical_id: str
    code_uri: Path
    handler: str
    environment: dict[str, Any] = field(default_factory=dict)
    timeout_s: int = 3
    memory_mb: int = 128


@dataclass(frozen=True)
class RouteSpec:
    """An HTTP API route: method (or ANY), path (or ``$default``), function, auth."""

    method: str
    path: str
    function: str
    iam_auth: bool = False


@dataclass(frozen=True)
class ApiSpec:
    """Everything the local API needs from the template."""

    functions: dict[str, FunctionSpec]
    routes: tuple[RouteSpec, ...]
    #: Path patterns the distribution sends to the API (its cache behaviors whose origin is
    #: ``api``); everything else it serves from the frontend bucket.
    edge_paths: tuple[str, ...] = ()


def read_api(path: Path) -> ApiSpec:
    """Functions, HttpApi routes and the distribution's API paths from ``template.yaml``."""
    template = load_template(path)
    globals_fn = template.get("Globals", {}).get("Function", {})
    base_env = globals_fn.get("Environment", {}).get("Variables", {})
    functions: dict[str, FunctionSpec] = {}
    routes: list[RouteSpec] = []
    edge_paths: list[str] = []
    for logical_id, resource in template.get("Resources", {}).items():
        props = resource.get("Properties", {}) or {}
        if resource.get("Type") == "AWS::CloudFront::Distribution":
            behaviors = props["DistributionConfig"].get("CacheBehaviors", [])
            edge_paths += [b["PathPattern"] for b in behaviors if b["TargetOriginId"] == "api"]
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        env = {**base_env, **props.get("Environment", {}).get("Variables", {})}
        functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_uri=path.parent / props["CodeUri"],
            handler=props.get("Handler", globals_fn.get("Handler", "app.lambda_handler")),
            environment=env,
            timeout_s=int(props.get("Timeout", globals_fn.get("Timeout", 3))),
            memory_mb=int(props.get("MemorySize", globals_fn.get("MemorySize", 128))),
        )
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            ev = event.get("Properties", {}) or {}
            auth = (ev.get("Auth") or {}).get("Authorizer")
            routes.append(
                RouteSpec(
                    method=str(ev.get("Method", "ANY")).upper(),
                    path=str(ev.get("Path", "$default")),
                    function=logical_id,
                    iam_auth=auth == "AWS_IAM",
                )
            )
    return ApiSpec(functions=functions, routes=tuple(routes), edge_paths=tuple(edge_paths))


def edge_path_matches(pattern: str, path: str) -> bool:
    """CloudFront's path-pattern matching: ``*`` matches any characters (``/`` included),
    case-sensitively, against the whole path."""
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), path) is not None
