"""Name tables: how a string such as ``"adam"`` or ``"relu"`` becomes an object.

Every family of building blocks (activations, losses, optimizers, initializers, layers,
metrics) keeps one :class:`Registry`, declared at the bottom of its module::

    OPTIMIZERS = Registry("optimizer", base=Optimizer)
    OPTIMIZERS.add(SGD, "sgd")
    OPTIMIZERS.add(Adam, "adam")

and its public ``get`` / ``serialize`` / ``deserialize`` functions are one-line wrappers around
the registry's methods.  The rules are the same for every family:

* a **name** is looked up case-insensitively, aliases included (``"mse"`` is
  ``"mean_squared_error"``); a registered class is instantiated with its defaults, a registered
  object (an activation, a metric function) is returned as it is;
* a **spec** ``{"name": ..., "config": {...}}`` (or ``{"class_name": ..., "config": ...}``) is
  deserialized: ``entry(**config)``;
* an instance of the family's ``base`` class passes through unchanged, and a subclass of it is
  instantiated with its defaults;
* ``serialize(obj)`` gives ``{"name": <registered name>, "config": obj.get_config()}``; only an
  object whose class (exactly) is registered can be saved by name, so that loading gives back
  the same class;
* an unknown name raises ``ValueError`` naming the family, the name and the known names
  (``Unknown optimizer 'lion'; known: 'adagrad', 'adam', ...``); a value of the wrong kind raises
  ``TypeError``.

A user may register an own class (``OPTIMIZERS.add(MyOptimizer, "my_optimizer")``) to make it
available by name and saveable.

This module is tier 0 of the layering: it imports nothing from scratchnn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

SPEC_KEYS = ("name", "class_name")


class Registry(Generic[T]):
    """A table of named entries (classes or objects) of one ``kind``.

    Parameters
    ----------
    kind : str
        What the entries are, for messages: ``"optimizer"``, ``"loss"``, ...
    base : type, optional
        Instances of ``base`` pass through :meth:`get` unchanged.
    spec_key : {"name", "class_name"}, default "name"
        The key :meth:`serialize` writes the name under (layers use ``"class_name"``, as Keras).
    """

    def __init__(self, kind: str, *, base: type | None = None, spec_key: str = "name"):
        if spec_key not in SPEC_KEYS:
            raise ValueError(f"spec_key must be one of {SPEC_KEYS}, got {spec_key!r}")
        self.kind = kind
        self.base = base
        self.spec_key = spec_key
        self._entries: dict[str, T] = {}  # canonical name -> entry
        self._keys: dict[str, str] = {}  # lower-cased name or alias -> canonical name
        self._spellings: list[str] = []  # every name and alias as registered

    # -- building the table -------------------------------------------------------------------
    def add(self, entry: T, name: str, *aliases: str) -> T:
        """Register ``entry`` under ``name`` (used by :meth:`serialize`) and ``aliases``."""
        for key in (name, *aliases):
            if not isinstance(key, str) or not key:
                raise TypeError(f"{self.kind} names must be non-empty strings, got {key!r}")
            if key.lower() in self._keys:
                raise ValueError(f"{self.kind} name {key!r} is already registered")
        self._entries[name] = entry
        for key in (name, *aliases):
            self._keys[key.lower()] = name
            self._spellings.append(key)
        return entry

    def register(self, name: str, *aliases: str) -> Callable[[T], T]:
        """Decorator form of :meth:`add`: ``@REGISTRY.register("name", "alias")``."""

        def decorator(entry: T) -> T:
            return self.add(entry, name, *aliases)

        return decorator

    # -- reading the table --------------------------------------------------------------------
    def names(self) -> list[str]:
        """The canonical names (the ones :meth:`serialize` writes), sorted."""
        return sorted(self._entries)

    def known(self) -> list[str]:
        """Every accepted spelling (names and aliases, as registered), sorted."""
        return sorted(self._spellings)

    def entries(self) -> dict[str, T]:
        """A copy of the table: canonical name -> registered class or object."""
        return dict(self._entries)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, names={self.names()})"

    def lookup(self, name: str) -> T:
        """The entry registered under ``name`` or one of its aliases (any case)."""
        if name not in self:
            raise ValueError(f"Unknown {self.kind} {name!r:.80}; known: {self._known_text()}")
        return self._entries[self._keys[name.lower()]]

    def canonical(self, name: str) -> str:
        """The name :meth:`serialize` would write for ``name`` (an alias, any case)."""
        self.lookup(name)
        return self._keys[name.lower()]

    def name_of(self, obj: Any) -> str:
        """The registered name of ``obj``: its own entry, or the entry that is its exact class.

        Raises ``ValueError`` for anything else (a custom subclass would load as its parent).
        """
        for name, entry in self._entries.items():
            if entry is obj or entry is type(obj) or self._same_kind_of_object(entry, obj):
                return name
        raise ValueError(
            f"Custom {self.kind} {obj!r:.80} cannot be saved by name: its class is not "
            f"registered (known: {self._known_text()})"
        )

    # -- get / serialize / deserialize --------------------------------------------------------
    def get(self, identifier: Any) -> T:
        """Resolve a name, a spec dict, a ``base`` instance or a ``base`` subclass."""
        if isinstance(identifier, (str, dict)):
            return self.deserialize(identifier)
        if self.base is not None:
            if isinstance(identifier, self.base):
                return identifier
            if isinstance(identifier, type) and issubclass(identifier, self.base):
                return identifier()
        spec = f"a {{{self.spec_key!r}: ..., 'config': ...}} dict"
        what = spec if self.base is None else (
            f"{spec} or a {self.base.__module__}.{self.base.__qualname__} instance")
        raise TypeError(f"{self.kind} must be one of {self._known_text()}, {what}; "
                        f"got {identifier!r:.80}")

    def serialize(self, obj: Any) -> dict[str, Any]:
        """``{spec_key: registered name, "config": obj.get_config()}``."""
        return {self.spec_key: self.name_of(obj), "config": obj.get_config()}

    def deserialize(self, spec: str | dict) -> T:
        """Inverse of :meth:`serialize`; a bare name gives the entry's default."""
        if isinstance(spec, str):
            return _instantiate(self.lookup(spec), {})
        name = _spec_name(spec) if isinstance(spec, dict) else None
        config = spec.get("config", {}) if isinstance(spec, dict) else None
        if not isinstance(name, str) or not isinstance(config, dict):
            raise ValueError(
                f"Cannot read {spec!r:.80} as {_article(self.kind)} {self.kind} description; "
                f"expected {{{self.spec_key!r}: <name>, 'config': {{...}}}}")
        entry = self.lookup(name)
        if config and not isinstance(entry, type):
            raise ValueError(f"{self.kind} {name!r} takes no config, got {config!r:.80}")
        return _instantiate(entry, config)

    def _same_kind_of_object(self, entry: Any, obj: Any) -> bool:
        """Whether ``obj`` is another instance of a registered object's class (``ReLU()``)."""
        return (self.base is not None and isinstance(entry, self.base)
                and type(entry) is type(obj))

    def _known_text(self) -> str:
        return ", ".join(repr(name) for name in self.known())


def _spec_name(spec: dict) -> Any:
    for key in SPEC_KEYS:
        if key in spec:
            return spec[key]
    return None


def _instantiate(entry: Any, config: dict) -> Any:
    return entry(**config) if isinstance(entry, type) else entry


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"
