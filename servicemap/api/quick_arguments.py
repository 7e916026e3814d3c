"""The common spelling of a query's arguments, read without webargs' and marshmallow's machinery.

webargs and marshmallow cost a /nearest request more than its search. Most requests spell their
arguments plainly (`lat=29.56&lon=106.55&kind=meal_point`), and those this module reads itself:
each argument once (list fields: any number of times), numbers as plain decimals, booleans and
strings as the fields take them, every field's own validators run. Anything else (an unknown or
repeated argument, `1e3`, a field it does not handle, a value a validator refuses) reads as
None, and the schema then reads the request as before and words any error. So an answer never
depends on which reader read it; tests/test_quick_arguments.py checks that against the schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from marshmallow import Schema, ValidationError, fields, missing

# What float() and int() read exactly as marshmallow's Float and Integer fields do.
DECIMAL = re.compile(r"-?[0-9]{1,9}(?:\.[0-9]{1,17})?\Z")
INTEGER = re.compile(r"[0-9]{1,9}\Z")

Reader = Callable[[str], object]


def quick_loader(schema: Schema, names: Iterable[str]) -> Callable:
    """A function from a request's args (a MultiDict) to what `schema.load` gives for them, or
    None where it cannot be sure. `names` are the fields it reads (scalars and lists of
    scalars); the schema's own @validates_schema checks must not concern them alone."""
    if {tag for tag, hooks in schema._hooks.items() if hooks} - {"validates_schema"}:
        raise ValueError("quick_loader reads schemas without load hooks only")
    readers, lists = {}, set()
    for name in names:
        field = schema.fields[name]
        if isinstance(field, fields.List):
            lists.add(field.data_key or name)
            readers[field.data_key or name] = (name, _list_reader(field))
        else:
            readers[field.data_key or name] = (name, _scalar_reader(field))
    defaults = {name: field.load_default for name, field in schema.fields.items()
                if field.load_default is not missing}
    if any(callable(value) for value in defaults.values()):
        raise ValueError("quick_loader takes constant defaults only")
    required = {name for name, field in schema.fields.items() if field.required}
    if not required <= {name for name, _ in readers.values()}:
        raise ValueError("quick_loader must read every required field")

    def load(args) -> dict | None:
        loaded = dict(defaults)
        try:
            for key, values in args.lists():
                name, read = readers[key]
                if key in lists:
                    loaded[name] = read(values)
                elif len(values) == 1:
                    loaded[name] = read(values[0])
                else:
                    return None
        except (KeyError, ValidationError, _Unsure):
            return None
        return loaded if required <= loaded.keys() else None

    return load


class _Unsure(Exception):
    """A spelling the quick reader leaves to the schema."""


def _scalar_reader(field: fields.Field) -> Reader:
    convert = _converter(field)

    def read(text: str):
        value = convert(text)
        for validator in field.validators:
            validator(value)
        return value

    return read


def _list_reader(field: fields.List) -> Callable[[list[str]], list]:
    read_one = _scalar_reader(field.inner)

    def read(texts: list[str]) -> list:
        values = [read_one(text) for text in texts]
        for validator in field.validators:
            validator(values)
        return values

    return read


def _converter(field: fields.Field) -> Reader:
    """The field's deserialisation of the plainest spellings; _Unsure for the rest."""
    if type(field) is fields.Float and not field.allow_nan and not field.as_string:
        return _matching(DECIMAL, float)
    if type(field) is fields.Integer and not field.as_string:
        return _matching(INTEGER, int)
    if type(field) is fields.String:
        return str
    if type(field) is fields.Boolean:
        truthy, falsy = field.truthy, field.falsy

        def boolean(text: str) -> bool:
            if text in truthy:
                return True
            if text in falsy:
                return False
            raise _Unsure()

        return boolean
    raise ValueError(f"quick_loader cannot read a {type(field).__name__} field")


def _matching(pattern: re.Pattern, convert: Callable) -> Reader:
    def read(text: str):
        if pattern.match(text) is None:
            raise _Unsure()
        return convert(text)

    return read
