"""APIs moto 5.2.5 lacks that the real aws provider calls, filled in for the emulator.

Each patch is the smallest faithful stand-in for the missing API; the list of gaps, with
reasons, is in README.md ("How the local emulator differs from AWS").
"""

from __future__ import annotations

from typing import Any


def install() -> None:
    _validate_state_machine_definition()
    _list_state_machine_versions()
    _describe_trails_by_name()


def _validate_state_machine_definition() -> None:
    """``ValidateStateMachineDefinition``: the aws provider calls it before creating a state
    machine. moto raises NotImplementedError (a 500 the SDK retries for minutes); here the
    definition goes through moto's own ASL parser, which is what executions use."""
    from moto.core.responses import ActionResult
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.responses import StepFunctionResponse

    def validate_state_machine_definition(self: Any) -> ActionResult:
        definition = self._get_param("definition")
        try:
            AmazonStateLanguageParser.parse(definition)
        except Exception as error:
            return ActionResult(
                {
                    "result": "FAIL",
                    "diagnostics": [
                        {
                            "severity": "ERROR",
                            "code": "SCHEMA_VALIDATION_FAILED",
                            "message": f"{type(error).__name__}: {error}"[:1000],
                        }
                    ],
                    "truncated": False,
                }
            )
        return ActionResult({"result": "OK", "diagnostics": [], "truncated": False})

    setattr(  # noqa: B010
        StepFunctionResponse, "validate_state_machine_definition", validate_state_machine_definition
    )


def _list_state_machine_versions() -> None:
    """``ListStateMachineVersions``: the aws provider reads it after creating a state machine
    (to set ``state_machine_version_arn``); moto keeps versions but has no API to list them."""
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def list_state_machine_versions(self: Any) -> ActionResult:
        arn = self._get_param("stateMachineArn")
        machine = self.stepfunction_backend.describe_state_machine(arn)
        versions = [
            {"stateMachineVersionArn": version.arn, "creationDate": version.creation_date}
            for _, version in sorted(machine.versions.items(), reverse=True)
        ]
        return ActionResult({"stateMachineVersions": versions})

    setattr(StepFunctionResponse, "list_state_machine_versions", list_state_machine_versions)  # noqa: B010


def _describe_trails_by_name() -> None:
    """``DescribeTrails`` with ``trailNameList``: moto ignores the list and returns every trail,
    so the aws provider's read of one trail fails ("too many results") once two exist."""
    import json

    from moto.cloudtrail.responses import CloudTrailResponse

    def describe_trails(self: Any) -> str:
        include_shadow_trails = self._get_bool_param("includeShadowTrails", True)
        wanted = set(self._get_param("trailNameList") or [])
        trails = [
            trail
            for trail in self.cloudtrail_backend.describe_trails(include_shadow_trails)
            if not wanted or trail.trail_name in wanted or trail.arn in wanted
        ]
        return json.dumps({"trailList": [t.description(include_region=True) for t in trails]})

    setattr(CloudTrailResponse, "describe_trails", describe_trails)  # noqa: B010
