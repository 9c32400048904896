"""The config's schema: pydantic validating parsed TOML into bdr.config.model's dataclasses.

Imported to validate a config not validated before (bdr.config.cache keeps the result), to
print the schema and to print a config back: the rest of bdr does without pydantic.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)

from bdr.config import model, units

Duration = Annotated[
    int,
    BeforeValidator(model.to_seconds),
    Field(gt=0, le=units.MAX_DURATION),
    PlainSerializer(model.seconds_to_text, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^(\d+[smhdw])+$", "examples": ["90s", "4h"]}),
]
# A duration where "0" means never (a reminder interval).
DurationOrNever = Annotated[
    int,
    BeforeValidator(model.to_seconds_or_never),
    Field(ge=0, le=units.MAX_DURATION),
    PlainSerializer(model.seconds_to_text, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^(0|(\d+[smhdw])+)$", "examples": ["24h", "0"]}),
]
Cron = Annotated[
    str,
    BeforeValidator(model.check_cron),
    WithJsonSchema(
        {"type": "string", "description": "5-field cron, local time", "examples": ["0 */4 * * *"]}
    ),
]
Name = Annotated[str, Field(pattern=model.NAME_PATTERN)]
Argv = Annotated[list[str], Field(min_length=1)]


# What the model's annotations name. They are strings (importing the model imports no
# pydantic), which pydantic resolves in the namespace of the frame that makes the adapter:
# `_adapter`'s own, whose parameters are these. Nothing is put into the model's module;
# `typing.get_type_hints(model.Plan, localns=NAMESPACE)` reads them the same way.
NAMESPACE: dict[str, Any] = {
    "Duration": Duration,
    "DurationOrNever": DurationOrNever,
    "Cron": Cron,
    "Name": Name,
    "Argv": Argv,
    "Field": Field,
    "AfterValidator": AfterValidator,
}


def _adapter(
    Duration: Any,
    DurationOrNever: Any,
    Cron: Any,
    Name: Any,
    Argv: Any,
    Field: Any,
    AfterValidator: Any,
) -> TypeAdapter[model.Config]:
    """The adapter of the whole config; pydantic reads the parameters from this frame."""
    return TypeAdapter(model.Config)


_CONFIG = _adapter(**NAMESPACE)


__all__ = ["ValidationError", "dump", "json_schema", "validate"]


def validate(raw: dict[str, Any]) -> model.Config:
    """Return `raw` (parsed TOML) as a Config; raise ValidationError naming every problem."""
    return _CONFIG.validate_python(raw)


def dump(config: model.Config) -> dict[str, Any]:
    """The config as the TOML it could be written as: durations and sizes as text, no unset
    keys."""
    data: dict[str, Any] = _CONFIG.dump_python(config, mode="json", exclude_none=True)
    return data


def json_schema() -> dict[str, Any]:
    return _CONFIG.json_schema(mode="validation")
