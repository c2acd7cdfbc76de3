"""The Magento 2.4.7 admin REST schema: lookups, request binding and conformance checks.

Three uses:

- ``bind_request``: what Magento's ``ServiceInputProcessor`` does to a JSON body before a service sees it
  (parameters under their camelCase or snake_case names, required ones, unknown nested properties
  refused, scalar types coerced or refused). The sandbox's handlers receive the bound body.
- ``validate_request`` / ``validate_response``: jsonschema (Draft 4, ``$ref`` into ``definitions``) against
  the operation's body or response schema. Requests are checked strictly (no properties beyond the
  schema); ``null`` is accepted anywhere because Magento emits ``null`` for required-but-empty fields and
  otherwise omits nulls.
- ``Recorder``: collects violations seen by a sandbox running with ``record=True``.

``KNOWN_DEVIATIONS`` lists every place where Magento's real output differs from the published schema and
the sandbox follows Magento.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from jsonschema.exceptions import best_match
from jsonschema.validators import extend

from .errors import bad_request, internal_error, required_field

SCHEMA_FILE = Path(__file__).with_name("schema") / "magento-2.4.7-admin-rest-schema.json"

_NUMERIC_STRING = {"type": ["integer", "string"], "pattern": "^[0-9]+$"}
_EMPTY_ARRAY = {"type": "array", "maxItems": 0}

KNOWN_DEVIATIONS: dict[str, Any] = {
    "definitions": {
        # Magento writes positional parameters as a list of scalars ("%1") and named ones as an object
        # ("%fieldName", "%resources"); the schema declares a list of objects.
        "error-parameters": {"anyOf": [{"type": "array"}, {"type": "object"}]},
    },
    "properties": {
        # Custom attribute values are strings for most attributes but arrays for multi-valued ones
        # (category_ids, multiselect) on output, and Magento accepts numbers on input.
        ("framework-attribute-interface", "value"): {
            "anyOf": [
                {"type": "string"},
                {"type": "number"},
                {"type": "boolean"},
                {"type": "array", "items": {"type": ["string", "number"]}},
            ]
        },
    },
    "responses": {
        # Service methods declared ``@return int`` hand back the id string the database gave them,
        # e.g. "3418" (IMG tutorial, ENDPOINTS.md; CFG tutorial for option ids).
        ("post", "/V1/products/{sku}/media", "200"): _NUMERIC_STRING,
        ("post", "/V1/configurable-products/{sku}/options", "200"): _NUMERIC_STRING,
        # QuoteManagement::placeOrder answers the new order's id as the database gave it.
        ("post", "/V1/guest-carts/{cartId}/payment-information", "200"): _NUMERIC_STRING,
        ("put", "/V1/guest-carts/{cartId}/order", "200"): _NUMERIC_STRING,
        ("put", "/V1/carts/{cartId}/order", "200"): _NUMERIC_STRING,
        # Void service methods answer 200 with an empty JSON array (MSI docs); the schema lists no 200.
        ("post", "/V1/inventory/source-items", "200"): _EMPTY_ARRAY,
        ("post", "/V1/inventory/source-items-delete", "200"): _EMPTY_ARRAY,
        ("post", "/V1/inventory/sources", "200"): _EMPTY_ARRAY,
        ("put", "/V1/inventory/sources/{sourceCode}", "200"): _EMPTY_ARRAY,
    },
}


@functools.cache
def load_schema() -> dict[str, Any]:
    """The published schema with ``KNOWN_DEVIATIONS`` applied (the file itself is untouched)."""
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    definitions = schema["definitions"]
    for name, replacement in KNOWN_DEVIATIONS["definitions"].items():
        definitions[name] = replacement
    for (name, prop), replacement in KNOWN_DEVIATIONS["properties"].items():
        definitions[name]["properties"][prop] = replacement
    for (method, path, status), replacement in KNOWN_DEVIATIONS["responses"].items():
        responses = schema["paths"][path][method]["responses"]
        responses.setdefault(status, {"description": "200 Success."})["schema"] = replacement
    return schema


def definitions() -> dict[str, Any]:
    return load_schema()["definitions"]  # type: ignore[no-any-return]


def operation(method: str, path_template: str) -> dict[str, Any] | None:
    path = load_schema()["paths"].get(path_template)
    if path is None:
        return None
    return path.get(method.lower())  # type: ignore[no-any-return]


def body_schema(method: str, path_template: str) -> dict[str, Any] | None:
    op = operation(method, path_template)
    if op is None:
        return None
    for param in op.get("parameters", []):
        if param.get("in") == "body":
            return param["schema"]  # type: ignore[no-any-return]
    return None


def response_schema(method: str, path_template: str, status: int) -> dict[str, Any] | None:
    op = operation(method, path_template)
    if op is None:
        return None
    responses = op.get("responses", {})
    entry = responses.get(str(status)) or (responses.get("default") if status >= 400 else None)
    if entry is None and status >= 400:
        return {"$ref": "#/definitions/error-response"}
    return None if entry is None else entry.get("schema")


def path_templates() -> list[str]:
    return list(load_schema()["paths"])


def match_path(path: str) -> str | None:
    """The schema template for a concrete ``/V1/...`` path (``%2F`` kept inside a segment)."""
    return _template_matcher()(path)


@functools.cache
def _template_matcher() -> Callable[[str], str | None]:
    compiled = []
    for template in path_templates():
        parts = template.strip("/").split("/")
        literal = sum(1 for p in parts if not p.startswith("{"))
        compiled.append((len(parts), literal, template, parts))
    compiled.sort(key=lambda c: (-c[1], c[2]))

    def match(path: str) -> str | None:
        segs = path.split("?")[0].strip("/").split("/")
        for n, _, template, parts in compiled:
            if n == len(segs) and all(p.startswith("{") or p == s for p, s in zip(parts, segs, strict=True)):
                return template
        return None

    return match


# ---------------------------------------------------------------- jsonschema validation


def _nullable(original: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def check(checker: Any, instance: Any) -> bool:
        return instance is None or original(checker, instance)

    return check


def _build_validator_class() -> Any:
    base = Draft4Validator.TYPE_CHECKER
    checker = base
    for name in ("string", "integer", "number", "boolean", "array", "object"):
        checker = checker.redefine(name, _nullable(base._type_checkers[name]))
    return extend(Draft4Validator, type_checker=checker)


_NullableDraft4 = _build_validator_class()


@functools.cache
def _strict_definitions() -> dict[str, Any]:
    """Definitions for input: no unknown properties, and no ``required`` inside data objects.

    A definition's ``required`` list comes from non-nullable getters, i.e. what Magento always prints;
    on input the service processor only demands the method's own parameters (the body's top level).
    """
    strict = copy.deepcopy(definitions())
    for schema in strict.values():
        if schema.get("type") == "object" and "properties" in schema:
            schema.setdefault("additionalProperties", False)
            schema.pop("required", None)
    return strict


@functools.cache
def _closed_definitions() -> dict[str, Any]:
    """Definitions for output: every object closed (``additionalProperties: false``), ``required`` kept.

    The published schema never closes an object, so a misspelt or invented key would pass unseen; the
    response check closes them all (Magento renders exactly the getters of the interface).
    """
    closed = copy.deepcopy(definitions())
    for schema in closed.values():
        if schema.get("type") == "object" and "properties" in schema:
            schema.setdefault("additionalProperties", False)
    return closed


_validators: dict[tuple[str, ...], Any] = {}
_validators_lock = threading.Lock()


def _validator(key: tuple[str, ...], schema: dict[str, Any], strict: bool) -> Any:
    with _validators_lock:
        found = _validators.get(key)
        if found is None:
            root = {**schema, "definitions": _strict_definitions() if strict else _closed_definitions()}
            found = _NullableDraft4(root)
            _validators[key] = found
        return found


def _errors(validator: Any, body: Any) -> list[str]:
    errors = list(validator.iter_errors(body))
    if not errors:
        return []
    first = best_match(errors)
    out = []
    for err in [first, *[e for e in errors if e is not first]][:5]:
        where = "/".join(str(p) for p in err.absolute_path) or "(root)"
        out.append(f"{where}: {err.message}")
    return out


def validate_response(method: str, path_template: str, status: int, body: Any) -> list[str]:
    """Problems of a response body against the schema; ``[]`` when it conforms (or has no schema)."""
    schema = response_schema(method, path_template, status)
    if schema is None:
        return []
    key = ("response", method.lower(), path_template, str(status))
    return _errors(_validator(key, schema, strict=False), body)


def validate_request(method: str, path_template: str, body: Any) -> list[str]:
    """Problems of a request body against the schema, strictly (unknown properties count)."""
    schema = body_schema(method, path_template)
    if schema is None:
        return [] if body in (None, {}, b"", "") else ["(root): operation takes no body"]
    key = ("request", method.lower(), path_template)
    return _errors(_validator(key, schema, strict=True), body)


class Recorder:
    """Collects schema violations of the requests a sandbox received and the responses it gave."""

    def __init__(self) -> None:
        self.violations: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def request(self, method: str, route: str, body: Any) -> None:
        self._add(method, route, "request", validate_request(method, route, body))

    def response(self, method: str, route: str, status: int, body: Any) -> None:
        self._add(method, route, "response", validate_response(method, route, status, body), status)

    def _add(
        self, method: str, route: str, direction: str, errors: list[str], status: int | None = None
    ) -> None:
        if not errors:
            return
        entry: dict[str, Any] = {"method": method, "route": route, "direction": direction, "error": errors[0]}
        if len(errors) > 1:
            entry["more"] = errors[1:]
        if status is not None:
            entry["status"] = status
        with self._lock:
            self.violations.append(entry)


# ---------------------------------------------------------------- request binding
#
# ``Framework\Webapi\ServiceInputProcessor`` (with ``Reflection\TypeProcessor``) is the referee:
# - ``process``: each service parameter is read under its own name or its snake_case form
#   (``stockItem`` / ``stock_item``); PHP ``isset`` makes a null value count as missing; every missing
#   parameter without a default is collected into one ``InputException`` (one error: its own message,
#   several: "One or more input exceptions have occurred." with ``errors``); other top-level keys are
#   ignored.
# - ``_createFromArray``: nested keys are snake or camel case; an unknown key is an ``InputException``
#   ``"%fieldName" is not supported...`` naming the UpperCamelCase property; a scalar where an object is
#   expected becomes an empty object; a string holding a ``<script>`` element is refused.
# - ``processComplexTypes``: a non-array where an array of objects is expected is "Not all parameters
#   valid.".
# - ``processSimpleAndAnyType`` / ``setType``: int and float need ``is_numeric`` (a float is truncated to
#   an int), any scalar is a bool (``filter_var``), arrays are not scalars. Its ``SerializationException``
#   is wrapped once per enclosing data-object property (``Error occurred during "%field_name" processing.``)
#   and answered as a rendered message without parameters.

_PHP_SNAKE = re.compile(r"(?<=\w)(?=[A-Z])")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.IGNORECASE | re.DOTALL)


class _SerializationError(Exception):
    """A value that cannot take its declared type; rendered text, as PHP hands it on."""


class _UnsupportedField(Exception):
    """A nested key that names no property of its data object."""

    def __init__(self, field_name: str) -> None:
        super().__init__(field_name)
        self.field_name = field_name


def _snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def snake_parameter(name: str) -> str:
    """The snake_case form ``ServiceInputProcessor::process`` also accepts for a parameter name."""
    return _PHP_SNAKE.sub("_", name).lower()


def _upper_camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _php_string(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else json.dumps(value)


def _type_error(value: Any, type_name: str) -> _SerializationError:
    return _SerializationError(
        f'The "{_php_string(value)}" value\'s type is invalid. The "{type_name}" type was expected. '
        "Verify and try again."
    )


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = definitions()[schema["$ref"].rsplit("/", 1)[1]]
    return schema


_NUMERIC = re.compile(r"^[ \t\n\r\v\f]*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[ \t\n\r\v\f]*$")
_TRUE_WORDS = frozenset({"1", "true", "on", "yes"})


def _is_numeric(value: Any) -> bool:
    """PHP ``is_numeric``."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and bool(_NUMERIC.match(value))


def php_interface(definition: str) -> str:
    """``catalog-data-base-price-interface`` -> ``\\Magento\\Catalog\\Api\\Data\\BasePriceInterface``."""
    module, sep, rest = definition.partition("-data-")
    if not sep:
        return definition

    def camel(text: str) -> str:
        return "".join(part.capitalize() for part in text.split("-"))

    return "\\Magento\\" + camel(module) + "\\Api\\Data\\" + camel(rest)


def _bind_object(value: Any, schema: dict[str, Any], limit: int | None) -> dict[str, Any]:
    props = schema["properties"]
    out: dict[str, Any] = {}
    for key, item in (value if isinstance(value, dict) else {}).items():
        name = key if key in props else _snake(key)
        if name not in props:
            raise _UnsupportedField(_upper_camel(_snake(key)))
        try:
            bound = _bind(item, props[name], None if name == "custom_attributes" else limit)
        except _SerializationError as error:
            raise _SerializationError(f'Error occurred during "{key}" processing. {error}') from None
        if isinstance(bound, str) and _SCRIPT.search(bound):
            raise bad_request('"%field_name" does not contains valid value.', {"field_name": key})
        out[name] = bound
    return out


def _bind(value: Any, schema: dict[str, Any], limit: int | None = None) -> Any:
    schema = _resolve(schema)
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        # a null or a scalar builds an empty data object
        return _bind_object(value, schema, limit)
    if value is None:
        return None
    if kind == "array":
        if isinstance(value, dict) and all(k.isdigit() for k in value):
            value = [value[k] for k in sorted(value, key=int)]
        items = schema.get("items", {})
        item_ref = items.get("$ref", "")
        if not isinstance(value, list):
            if item_ref:
                raise bad_request("Not all parameters valid.")
            raise _type_error(value, "array")
        if limit is not None and item_ref and len(value) > limit:
            raise bad_request(
                'Maximum items of type "%type" is %max',
                {"type": php_interface(item_ref.rsplit("/", 1)[1]), "max": limit},
            )
        return [_bind(v, items, limit) for v in value]
    if isinstance(value, dict | list):
        if kind in ("integer", "number", "boolean", "string"):
            raise _SerializationError(
                f'The "Array" value\'s type is invalid. The "{_SCALAR_NAMES[kind]}" type was expected. '
                "Verify and try again."
            )
        return value
    if kind in ("integer", "number"):
        if not _is_numeric(value):
            raise _type_error(value, _SCALAR_NAMES[kind])
        if kind == "integer" and isinstance(value, float):
            return int(value)
        return value
    if kind == "boolean":
        if isinstance(value, bool) or value in (0, 1, "0", "1", "true", "false", ""):
            return value
        return isinstance(value, str) and value.strip().lower() in _TRUE_WORDS
    return value


_SCALAR_NAMES = {"integer": "int", "number": "float", "boolean": "bool", "string": "string"}


def bind_request(
    method: str,
    path_template: str,
    body: Any,
    array_limit: int | None = None,
    *,
    unknown_field_crashes: bool = False,
) -> Any:
    """Check and normalise a request body as Magento's input processor would; raise MagentoError.

    Answers a dict keyed by the service's parameter names (camelCase, as the schema spells them).
    ``array_limit`` (input limits on) caps every array of data objects, as ``EntityArrayValidator`` does.
    ``unknown_field_crashes``: releases before 2.4.7 let ``NameFinder``'s LogicException for an unknown
    nested key escape, which the error processor masks as a 500.
    """
    schema = body_schema(method, path_template)
    if schema is None:
        return body
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise bad_request("Decoding error.")
    required = set(schema.get("required", []))
    out: dict[str, Any] = {}
    missing: list[str] = []
    for name, prop in schema.get("properties", {}).items():
        value = body.get(name)
        if value is None:
            value = body.get(snake_parameter(name))
        if value is None:
            if name in required:
                missing.append(name)
            continue
        try:
            out[name] = _bind(value, prop, array_limit)
        except _SerializationError as error:
            raise bad_request(str(error)) from None
        except _UnsupportedField as error:
            if unknown_field_crashes:
                raise internal_error() from None
            raise bad_request(
                '"%fieldName" is not supported. Correct the field name and try again.',
                {"fieldName": error.field_name},
            ) from None
    if len(missing) == 1:
        raise required_field(missing[0])
    if missing:
        raise bad_request(
            "One or more input exceptions have occurred.",
            errors=[required_field(name).body() for name in missing],
        )
    return out
