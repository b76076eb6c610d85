"""Validate an OpenLineage run event as it arrived (JSON) against the spec as the client package defines it.

openlineage-python 1.54 ships the spec as generated classes (`openlineage.client.generated`), not as the JSON
files, so the JSON Schema here is derived from those classes: each class's required attributes, the event types
of its `EventType`, and the spec's formats (UUID run ids, date-times, URIs), checked by jsonschema.
"""

from __future__ import annotations

import attr
import jsonschema
from openlineage.client.generated import base
from openlineage.client.generated.output_statistics_output_dataset import OutputStatisticsOutputDatasetFacet


def _required(cls) -> list[str]:
    return [field.alias if field.name.startswith("_") else field.name
            for field in attr.fields(cls) if field.default is attr.NOTHING and field.init]


FACET = {"type": "object", "required": ["_producer", "_schemaURL"],
         "properties": {"_producer": {"type": "string", "format": "uri"},
                        "_schemaURL": {"type": "string", "format": "uri"}}}
FACETS = {"type": "object", "additionalProperties": FACET}


def _dataset(extra_facets: dict | None = None) -> dict:
    return {"type": "object", "required": _required(base.Dataset),
            "properties": {"namespace": {"type": "string"}, "name": {"type": "string"}, "facets": FACETS,
                           **(extra_facets or {})}}


OUTPUT_STATISTICS = {**FACET, "properties": {
    **FACET["properties"],
    **{name: {"type": ["integer", "null"], "minimum": 0} for name in ("rowCount", "size", "fileCount")},
}}
assert {"rowCount", "size", "fileCount"} <= {field.name for field in attr.fields(OutputStatisticsOutputDatasetFacet)}

RUN_EVENT = {
    "type": "object",
    "required": sorted({"eventTime", "producer", "schemaURL", "run", "job", "eventType"}
                       | set(_required(base.RunEvent))),
    "properties": {
        "eventTime": {"type": "string", "format": "date-time"},
        "producer": {"type": "string", "format": "uri"},
        "schemaURL": {"type": "string", "format": "uri"},
        "eventType": {"enum": [event_type.value for event_type in base.EventType]},
        "run": {"type": "object", "required": _required(base.Run),
                "properties": {"runId": {"type": "string", "format": "uuid"}, "facets": FACETS}},
        "job": {"type": "object", "required": _required(base.Job),
                "properties": {"namespace": {"type": "string"}, "name": {"type": "string"}, "facets": FACETS}},
        "inputs": {"type": "array", "items": _dataset({"inputFacets": FACETS})},
        "outputs": {"type": "array", "items": _dataset({"outputFacets": {
            "type": "object", "properties": {"outputStatistics": OUTPUT_STATISTICS}, "additionalProperties": FACET,
        }})},
    },
}


def validate_run_event(event: dict) -> None:
    jsonschema.Draft202012Validator(RUN_EVENT, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
                                    ).validate(event)
