"""``MetricsRecorder`` as CloudWatch embedded metric format (EMF) lines, through Powertools
Metrics: the function's log line becomes the metric, so recording costs no API call and no
network path from the VPC (CloudWatch Logs extracts it on AWS; ``local/gaps_emf.py`` does on the
emulator).

One line for a step's measurements without a dimension (dimension: the function's service),
and one more per measurement with one (service and that dimension): Powertools gives a line
one set of dimensions. The namespace and the service are the function's
``POWERTOOLS_METRICS_NAMESPACE`` and ``POWERTOOLS_SERVICE_NAME`` unless given.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from functions.domain.payment_metrics import Measurement, Unit

_UNITS = {Unit.COUNT: MetricUnit.Count, Unit.MILLISECONDS: MetricUnit.Milliseconds}


class EmfMetrics:
    def __init__(self, namespace: str | None = None, service: str | None = None) -> None:
        self._namespace = namespace or os.environ.get("POWERTOOLS_METRICS_NAMESPACE")
        self._service = service or os.environ.get("POWERTOOLS_SERVICE_NAME", "service_undefined")

    def record(self, measurements: Sequence[Measurement]) -> None:
        plain = [m for m in measurements if m.dimension is None]
        if plain:
            metrics = Metrics(namespace=self._namespace, service=self._service)
            for m in plain:
                metrics.add_metric(name=m.name, unit=_UNITS[m.unit], value=m.value)
            metrics.flush_metrics()
        for m in measurements:
            if m.dimension is None:
                continue
            with single_metric(
                name=m.name,
                unit=_UNITS[m.unit],
                value=m.value,
                namespace=self._namespace,
                default_dimensions={"service": self._service},
            ) as metric:
                metric.add_dimension(name=m.dimension[0], value=m.dimension[1])
