"""The security services' APIs moto 5.2.5 lacks or answers differently from AWS, filled in for
modules/security_baseline (the list of gaps, with reasons, is in README.md).

* Security Hub standards: ``BatchEnableStandards``, ``GetEnabledStandards`` and
  ``BatchDisableStandards`` are not implemented, so ``aws_securityhub_standards_subscription``
  (the PCI DSS v4.0.1 standard) cannot be created. Here a subscription is kept per account and
  region, ``READY`` at once (AWS takes a few minutes), only while the hub is enabled, and only
  for the standards AWS offers in the partition's ARN form.
* Security Hub configuration: ``UpdateSecurityHubConfiguration`` is not implemented (the
  provider calls it after enabling the hub); here its two settings are kept and ``DescribeHub``
  answers them.
* GuardDuty: ``UpdateDetector`` with ``Features`` replaces the detector's whole feature list,
  where AWS updates the features it names; the provider configures each protection plan
  (``aws_guardduty_detector_feature``) with its own call, so on moto the second plan erased the
  first. Here the named features are merged into the list.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

# arn:<partition>:securityhub:<region>::standards/<standard>/v/<version>, the form AWS's
# DescribeStandards lists (the older ruleset form, ...:::ruleset/cis-aws-..., is not offered).
STANDARD_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):securityhub:(?P<region>[a-z0-9-]+)::standards/(?P<path>.+)$"
)
OFFERED_STANDARDS = frozenset(
    {
        "pci-dss/v/4.0.1",
        "pci-dss/v/3.2.1",
        "aws-foundational-security-best-practices/v/1.0.0",
        "cis-aws-foundations-benchmark/v/1.4.0",
        "cis-aws-foundations-benchmark/v/3.0.0",
        "nist-800-53/v/5.0.0",
        "aws-resource-tagging-standard/v/1.0.0",
    }
)
_lock = threading.Lock()


def install() -> None:
    _securityhub_standards()
    _guardduty_merges_features()


def _error(code: str, message: str, status: int = 400) -> Exception:
    from moto.core.exceptions import JsonRESTError

    error = JsonRESTError(code, message)
    error.code = status
    return error


def _securityhub_standards() -> None:
    from moto.securityhub import urls
    from moto.securityhub.responses import SecurityHubResponse

    if getattr(SecurityHubResponse, "batch_enable_standards", None) is not None:
        return
    for path in ("register", "get", "deregister"):
        urls.url_paths[f"{{0}}/standards/{path}$"] = SecurityHubResponse.dispatch

    def subscriptions(self: Any) -> dict[str, dict[str, Any]] | None:
        # kept on the account's and region's backend, so a reset of the emulator forgets them
        backend = self.securityhub_backend
        if not backend.enabled:
            return None
        held: dict[str, dict[str, Any]] = backend.__dict__.setdefault("standards_subscriptions", {})
        return held

    def not_subscribed() -> Exception:
        return _error("InvalidAccessException", "Account is not subscribed to AWS Security Hub")

    def batch_enable_standards(self: Any) -> Any:
        held = subscriptions(self)
        if held is None:
            raise not_subscribed()
        requests = json.loads(self.body or "{}").get("StandardsSubscriptionRequests") or []
        answered = []
        with _lock:
            for request in requests:
                standard = str(request.get("StandardsArn", ""))
                match = STANDARD_ARN.match(standard)
                if match is None or match["path"] not in OFFERED_STANDARDS:
                    raise _error("InvalidInputException", f"Invalid StandardsArn: {standard}")
                if match["region"] != self.region:
                    raise _error("InvalidInputException", f"{standard} is not in {self.region}")
                arn = (
                    f"arn:{match['partition']}:securityhub:{self.region}:{self.current_account}"
                    f":subscription/{match['path']}"
                )
                held[arn] = {
                    "StandardsSubscriptionArn": arn,
                    "StandardsArn": standard,
                    "StandardsInput": request.get("StandardsInput") or {},
                    "StandardsStatus": "READY",
                    "StandardsControlsUpdatable": "READY_FOR_UPDATES",
                }
                answered.append(held[arn])
        return json.dumps({"StandardsSubscriptions": answered})

    def get_enabled_standards(self: Any) -> Any:
        held = subscriptions(self)
        if held is None:
            raise not_subscribed()
        wanted = json.loads(self.body or "{}").get("StandardsSubscriptionArns")
        found = [s for arn, s in held.items() if not wanted or arn in wanted]
        return json.dumps({"StandardsSubscriptions": found})

    def batch_disable_standards(self: Any) -> Any:
        held = subscriptions(self)
        if held is None:
            raise not_subscribed()
        arns = json.loads(self.body or "{}").get("StandardsSubscriptionArns") or []
        answered = []
        with _lock:
            for arn in arns:
                subscription = held.pop(arn, None)
                if subscription is None:
                    raise _error("ResourceNotFoundException", f"{arn} not found", 404)
                answered.append({**subscription, "StandardsStatus": "DELETING"})
        return json.dumps({"StandardsSubscriptions": answered})

    # Disabling the hub ends its subscriptions, as on AWS.
    original_disable = SecurityHubResponse.disable_security_hub

    def disable_security_hub(self: Any) -> Any:
        answer = original_disable(self)
        self.securityhub_backend.__dict__.pop("standards_subscriptions", None)
        self.securityhub_backend.__dict__.pop("hub_configuration", None)
        return answer

    # UpdateSecurityHubConfiguration (the provider calls it after EnableSecurityHub to set
    # AutoEnableControls and ControlFindingGenerator): kept on the backend, shown by DescribeHub.
    def update_security_hub_configuration(self: Any) -> Any:
        backend = self.securityhub_backend
        if not backend.enabled:
            raise not_subscribed()
        body = json.loads(self.body or "{}")
        settings = backend.__dict__.setdefault("hub_configuration", {})
        for key in ("AutoEnableControls", "ControlFindingGenerator"):
            if key in body:
                settings[key] = body[key]
        return json.dumps({})

    original_describe = SecurityHubResponse.describe_hub

    def describe_hub(self: Any) -> Any:
        answer = json.loads(original_describe(self))
        answer.update(self.securityhub_backend.__dict__.get("hub_configuration", {}))
        return json.dumps(answer)

    SecurityHubResponse.update_security_hub_configuration = update_security_hub_configuration  # type: ignore[attr-defined]
    SecurityHubResponse.describe_hub = describe_hub  # type: ignore[method-assign]
    SecurityHubResponse.batch_enable_standards = batch_enable_standards  # type: ignore[attr-defined]
    SecurityHubResponse.get_enabled_standards = get_enabled_standards  # type: ignore[attr-defined]
    SecurityHubResponse.batch_disable_standards = batch_disable_standards  # type: ignore[attr-defined]
    SecurityHubResponse.disable_security_hub = disable_security_hub  # type: ignore[method-assign]


def _guardduty_merges_features() -> None:
    from moto.guardduty.models import Detector

    original = Detector.update
    if getattr(original, "_merges_features", False):
        return

    def update(
        self: Any,
        enable: bool,
        finding_publishing_frequency: str,
        data_sources: dict[str, Any],
        features: list[dict[str, Any]],
    ) -> None:
        if features is not None:
            merged = {str(f.get("name")): f for f in self.features or []}
            merged.update({str(f.get("name")): f for f in features})
            features = list(merged.values())
        original(self, enable, finding_publishing_frequency, data_sources, features)

    update._merges_features = True  # type: ignore[attr-defined]
    Detector.update = update  # type: ignore[method-assign]
