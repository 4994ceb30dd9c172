"""Alarms, the dashboard and the manifest check in the template match the metrics the code
emits (``secureface.api.telemetry``) and the runbooks in docs/OPERATIONS.md: each test fails if
an alarm is dropped, watches a metric nobody emits, or points at a runbook that is not there."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from secureface.api import telemetry
from tests.infra.test_template import TEMPLATE, Template, props, resources

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = (ROOT / "docs" / "OPERATIONS.md").read_text()

#: Each metric the code emits for on-call, and the alarm that watches it.
WATCHED = {
    telemetry.MANIFEST_SECONDS_TO_EXPIRY: "ManifestExpiringAlarm",
    telemetry.MODEL_UNAVAILABLE: "ModelUnavailableAlarm",
    telemetry.STORE_UNAVAILABLE: "StoreUnavailableAlarm",
    telemetry.UNHANDLED_ERRORS: "UnhandledErrorsAlarm",
    telemetry.LOCKS_ENGAGED: "LocksEngagedAlarm",
    telemetry.DECISIONS: "VerifyErrorsAlarm",
    telemetry.VERIFY_LATENCY: "VerifyLatencyAlarm",
}


@pytest.fixture(scope="module")
def template() -> Template:
    import json

    from cfnlint.decode import decode

    parsed, errors = decode(str(TEMPLATE))
    assert not errors, [str(e) for e in errors]
    return dict(json.loads(json.dumps(parsed)))


def alarms(template: Template) -> dict[str, dict[str, Any]]:
    return {
        name: res["Properties"]
        for name, res in resources(template, "AWS::CloudWatch::Alarm").items()
    }


@pytest.mark.parametrize(("metric", "alarm"), sorted(WATCHED.items()))
def test_each_on_call_metric_has_its_alarm(template: Template, metric: str, alarm: str) -> None:
    found = alarms(template)[alarm]
    assert (found["Namespace"], found["MetricName"]) == ("SecureFace", metric)
    dimensions = {d["Name"]: d["Value"] for d in found["Dimensions"]}
    assert dimensions["service"] == "secureface"  # POWERTOOLS_SERVICE_NAME
    assert (
        template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        == dimensions["service"]
    )


def test_every_alarm_notifies_the_topic_when_an_email_is_given(template: Template) -> None:
    topic = template["Resources"]["AlarmTopic"]
    assert topic["Condition"] == "HasAlarmEmail"
    assert topic["Properties"]["Subscription"] == [
        {"Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}
    ]
    assert topic["Properties"]["KmsMasterKeyId"]  # encrypted at rest
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    for name, alarm in alarms(template).items():
        expected = {"Fn::If": ["HasAlarmEmail", [{"Ref": "AlarmTopic"}], {"Ref": "AWS::NoValue"}]}
        assert alarm["AlarmActions"] == expected, name


def test_every_alarm_has_a_runbook(template: Template) -> None:
    anchors = {
        re.sub(r"[^a-z0-9-]", "", h.strip().lower().replace(" ", "-"))
        for h in re.findall(r"^### (.+)$", OPERATIONS, re.M)
    }
    for name, alarm in alarms(template).items():
        (anchor,) = re.findall(r"docs/OPERATIONS\.md#([a-z0-9-]+)", alarm["AlarmDescription"])
        assert anchor in anchors, (name, anchor)


def test_an_expiring_or_unchecked_manifest_alarms_days_before_it_stops_sign_ins(
    template: Template,
) -> None:
    """The likeliest outage: the manifest expiring. Checked hourly by the model function; the
    alarm fires 3 days ahead (the deploy workflow re-signs at half of a 14-day lifetime), and a
    check that did not run counts as breaching."""
    alarm = alarms(template)["ManifestExpiringAlarm"]
    assert alarm["ComparisonOperator"] == "LessThanThreshold"
    assert alarm["Statistic"] == "Minimum" and alarm["TreatMissingData"] == "breaching"
    ttl = template["Parameters"]["ManifestTtlSeconds"]
    assert 86400 <= int(alarm["Threshold"]) < int(ttl["Default"]) // 2
    assert int(alarm["Threshold"]) < int(ttl["MinValue"]) * 7
    events = props(template, "ModelFunction")["Events"]
    (schedule,) = [e for e in events.values() if e["Type"] == "Schedule"]
    assert schedule["Properties"]["Schedule"] == "rate(1 hour)"
    assert int(alarm["Period"]) == 3600


def test_failures_alarm_on_any_occurrence_and_latency_on_p99(template: Template) -> None:
    found = alarms(template)
    for name in ("ModelUnavailableAlarm", "UnhandledErrorsAlarm", "VerifyErrorsAlarm"):
        assert (found[name]["Statistic"], int(found[name]["Threshold"])) == ("Sum", 1), name
        assert found[name]["TreatMissingData"] == "notBreaching"
    errors = {d["Name"]: d["Value"] for d in found["VerifyErrorsAlarm"]["Dimensions"]}
    assert (errors["decision"], errors["reason"]) == ("not_verified", "error")
    latency = found["VerifyLatencyAlarm"]
    assert latency["ExtendedStatistic"] == "p99"
    assert int(latency["Threshold"]) < 1000 * int(props(template, "VerifyFunction")["Timeout"])
    api = found["Api5xxAlarm"]
    assert (api["Namespace"], api["MetricName"]) == ("AWS/ApiGateway", "5xx")
    assert {"Name": "ApiId", "Value": {"Ref": "HttpApi"}} in api["Dimensions"]


def test_the_dashboard_shows_every_watched_metric(template: Template) -> None:
    body = props(template, "Dashboard")["DashboardBody"]["Fn::Sub"]
    for metric in WATCHED:
        assert f'"{metric}"' in body or f'\\"{metric}\\"' in body, metric
