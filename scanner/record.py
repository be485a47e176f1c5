"""Records: the few :mod:`dataclasses` features leaktrap's records use, without its cost.

``import dataclasses`` pulls in ``inspect`` (about 7 ms), and every decorated class
compiles its generated methods with ``exec`` (about 0.4 ms each, 20 classes on the hook's
path): together a fifth of a pre-commit run. :func:`record` builds the same behaviour
from plain functions instead: an ``__init__`` with the fields' defaults and factories,
``__repr__`` (fields with ``repr=False`` left out), ``__eq__`` and ``__hash__`` over the
compared fields, and, for frozen records (the default), no assignment after ``__init__``.
:func:`replace` and :func:`asdict` work on records and on ordinary dataclasses alike.

Only what the records use is supported: fields declared by annotations in the class
body (no inheritance between records), ``field(default=, default_factory=, repr=,
compare=, hash=)``. Each instance costs a little more to build than a dataclass's
(a generic ``__init__``): nothing the scan makes in numbers where that shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_MISSING: Any = object()


class FrozenRecordError(AttributeError):
    """Assigning to a field of a frozen record."""


class Field:
    __slots__ = ("name", "default", "default_factory", "repr", "compare", "hash")

    def __init__(
        self,
        default: Any = _MISSING,
        default_factory: Callable[[], Any] | None = None,
        repr: bool = True,  # noqa: A002 - the dataclasses name
        compare: bool = True,
        hash: bool | None = None,  # noqa: A002
    ) -> None:
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.compare = compare
        self.hash = compare if hash is None else hash


def field(**options: Any) -> Any:
    """A field's options, as ``dataclasses.field`` takes them."""
    return Field(**options)


def record(cls: type[T] | None = None, *, frozen: bool = True) -> Any:
    """``@record`` (frozen) or ``@record(frozen=False)``: see the module docstring."""

    def build(klass: type[T]) -> type[T]:
        _install(klass, frozen)
        return klass

    return build if cls is None else build(cls)


def replace(obj: T, **changes: Any) -> T:
    """A copy of ``obj`` with ``changes`` (a record or a dataclass instance)."""
    fields = getattr(type(obj), "__record_fields__", None)
    if fields is None:
        import dataclasses

        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    unknown = set(changes).difference(f.name for f in fields)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field(s) {', '.join(sorted(unknown))}")
    values = {f.name: changes[f.name] if f.name in changes else getattr(obj, f.name) for f in fields}
    return type(obj)(**values)


def asdict(obj: Any) -> Any:
    """Records (and dataclasses) as dicts, recursively through lists, tuples and dicts."""
    fields = getattr(type(obj), "__record_fields__", None)
    if fields is not None:
        return {f.name: asdict(getattr(obj, f.name)) for f in fields}
    if hasattr(type(obj), "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(obj)
    if isinstance(obj, (list, tuple)):
        return type(obj)(asdict(v) for v in obj)
    if isinstance(obj, dict):
        return {k: asdict(v) for k, v in obj.items()}
    return obj


# ---------------------------------------------------------------- building a class


def _install(cls: type, frozen: bool) -> None:
    fields = _fields(cls)
    cls.__record_fields__ = fields  # type: ignore[attr-defined]
    cls.__init__ = _init(fields, hasattr(cls, "__post_init__"))  # type: ignore[misc]
    cls.__repr__ = _repr(tuple(f.name for f in fields if f.repr))  # type: ignore[method-assign]
    compared = tuple(f.name for f in fields if f.compare)
    cls.__eq__ = _eq(compared)  # type: ignore[method-assign]
    if frozen:
        cls.__hash__ = _hash(tuple(f.name for f in fields if f.hash))  # type: ignore[method-assign]
        cls.__setattr__ = _refuse  # type: ignore[method-assign]
        cls.__delattr__ = _refuse  # type: ignore[method-assign]
    else:
        cls.__hash__ = None  # type: ignore[assignment] # mutable and compared by value: unhashable


def _fields(cls: type) -> tuple[Field, ...]:
    out: list[Field] = []
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if "ClassVar" in str(annotation):
            continue
        value = cls.__dict__.get(name, _MISSING)
        spec = value if isinstance(value, Field) else Field(default=value)
        spec.name = name
        if isinstance(value, Field):  # the class attribute becomes the default (as dataclasses do)
            if spec.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, spec.default)
        if out and _required(spec) and not _required(out[-1]):
            raise TypeError(f"{cls.__name__}: field {name!r} without a default follows one with a default")
        out.append(spec)
    return tuple(out)


def _required(spec: Field) -> bool:
    return spec.default is _MISSING and spec.default_factory is None


def _init(fields: tuple[Field, ...], has_post: bool) -> Callable[..., None]:
    """One generic ``__init__`` per class (no generated code). Records are made per chunk and
    per finding, so the common calls take a short path: values set straight from the
    arguments, defaults from a precomputed table (measured: 1.9 -> 0.7 µs a record)."""
    names = tuple(f.name for f in fields)
    count = len(names)
    fills = tuple(
        (f.name, f.default_factory, f.default) for f in fields
    )  # per field: how to fill it when no argument gave it
    set_field = object.__setattr__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        given = len(args)
        if given > count:
            raise TypeError(f"{type(self).__name__}() takes {count} positional arguments but {given} were given")
        for name, value in zip(names, args):
            set_field(self, name, value)
        if given < count:
            for name, factory, default in fills[given:]:
                if name in kwargs:
                    set_field(self, name, kwargs.pop(name))
                elif factory is not None:
                    set_field(self, name, factory())
                elif default is not _MISSING:
                    set_field(self, name, default)
                else:
                    raise TypeError(f"{type(self).__name__}() missing required argument: {name!r}")
        if kwargs:
            key = next(iter(kwargs))
            if key in names:
                raise TypeError(f"{type(self).__name__}() got multiple values for argument {key!r}")
            raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument {key!r}")
        if has_post:
            self.__post_init__()

    return __init__


def _repr(names: tuple[str, ...]) -> Callable[[Any], str]:
    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__qualname__}({inner})"

    return __repr__


def _eq(names: tuple[str, ...]) -> Callable[[Any, Any], Any]:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in names)

    return __eq__


def _hash(names: tuple[str, ...]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(tuple(getattr(self, n) for n in names))

    return __hash__


def _refuse(self: Any, name: str, *_value: Any) -> None:
    raise FrozenRecordError(f"cannot assign to field {name!r} of a frozen {type(self).__name__}")
