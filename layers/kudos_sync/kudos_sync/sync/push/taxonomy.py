"""Categories and attribute options: names that must exist in Magento before a product can use them.

One algorithm for both (`ensure_names`): answer from the bindings (the cache); on a miss list what
Magento has once, adopt a name that is there, create one that is not (parents first for categories).
Should a binding be lost in a crash, the next run's miss lists Magento and finds the name: nothing is
ever created twice.
"""

import logging
from collections.abc import Mapping, Sequence
from typing import Protocol

from kudos_sync.config import Ownership, TenantConfig
from kudos_sync.domain.desired import DesiredCatalogue, Problem
from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.push_rules import category_prefixes
from kudos_sync.domain.state import Binding, BindingKind
from kudos_sync.sync.ports import MagentoCatalog
from kudos_sync.sync.push import binders
from kudos_sync.sync.push.context import PushContext

logger = logging.getLogger(__name__)


class _Names[N](Protocol):
    kind: BindingKind

    def key(self, name: N) -> str: ...

    def find(self, name: N, resolved: Mapping[N, int]) -> int | None:
        """The id Magento has for the name, listing it once per group on the first miss."""
        ...

    def create(self, name: N, resolved: Mapping[N, int]) -> int | None:
        """Make it; None when it cannot be made yet (its parent is missing)."""
        ...

    def problem(self, name: N, exc: RecordError) -> Problem: ...


def ensure_names[N](
    ctx: PushContext, names: _Names[N], needed: Sequence[N], cache: dict[str, Binding]
) -> dict[N, int]:
    """Name -> Magento id for every needed name that exists or could be made, in the order given."""
    if ctx.tally.partial:
        return {}
    resolved: dict[N, int] = {}
    found: list[Binding] = []
    for name in needed:
        key = names.key(name)
        binding = cache.get(key)
        if binding is not None and binding.magento_id is not None:
            resolved[name] = binding.magento_id
            ctx.progress.advance(names.kind.value, 1)
            continue
        magento_id = names.find(name, resolved)
        if magento_id is None:
            if ctx.out_of_time():
                break
            try:
                magento_id = names.create(name, resolved)
            except RecordError as exc:
                logger.warning("%s %s could not be created: %s", names.kind.value, key, exc)
                ctx.tally.problem(names.problem(name, exc))
                continue
            if magento_id is None:
                continue  # its parent could not be made; the products using it are parked
            if names.kind is BindingKind.CATEGORY:
                ctx.tally.counts.categories_created += 1
            else:
                ctx.tally.counts.options_created += 1
            ctx.writes.save([binders.named(names.kind, key, magento_id)])
        else:
            found.append(binders.named(names.kind, key, magento_id))
        resolved[name] = magento_id
        cache[key] = binders.named(names.kind, key, magento_id)
        ctx.progress.advance(names.kind.value, 1)
    if found:
        ctx.writes.save(found)
    return resolved


class _Categories:
    """Category paths ("Womens/Tops") under the tenant's root category."""

    kind = BindingKind.CATEGORY

    def __init__(self, magento: MagentoCatalog, root: int) -> None:
        self._magento = magento
        self._root = root
        self._tree: dict[tuple[int, str], int] | None = None

    def key(self, name: str) -> str:
        return name

    def _parent_id(self, path: str, resolved: Mapping[str, int]) -> int | None:
        parent_path = path.rpartition("/")[0]
        return resolved.get(parent_path) if parent_path else self._root

    def find(self, name: str, resolved: Mapping[str, int]) -> int | None:
        if self._tree is None:
            # Names compared as Magento compares them (a store's "Womens " is CI Office's "womens").
            nodes = self._magento.list_categories(self._root)
            self._tree = {}
            for node in sorted(nodes, key=lambda n: n.category_id):  # the oldest of look-alikes wins
                self._tree.setdefault((node.parent_id, _fold(node.name)), node.category_id)
        parent_id = self._parent_id(name, resolved)
        return None if parent_id is None else self._tree.get((parent_id, _fold(name.rpartition("/")[2])))

    def create(self, name: str, resolved: Mapping[str, int]) -> int | None:
        parent_id = self._parent_id(name, resolved)
        return (
            None if parent_id is None else self._magento.create_category(parent_id, name.rpartition("/")[2])
        )

    def problem(self, name: str, exc: RecordError) -> Problem:
        return Problem("products", name, "category_path", f"category {name}: {exc}")


class _Options:
    """Attribute option labels: (attribute code, label)."""

    kind = BindingKind.OPTION

    def __init__(self, magento: MagentoCatalog) -> None:
        self._magento = magento
        self._listed: dict[str, dict[str, int]] = {}

    def key(self, name: tuple[str, str]) -> str:
        return f"{name[0]}:{name[1]}"

    def find(self, name: tuple[str, str], resolved: Mapping[tuple[str, str], int]) -> int | None:
        attribute, label = name
        if attribute not in self._listed:
            # Labels compared as Magento compares them: a store's "Navy" is CI Office's "NAVY".
            listed = self._magento.list_attribute_options(attribute)
            self._listed[attribute] = {}
            for known, option_id in sorted(listed.items(), key=lambda item: item[1]):
                self._listed[attribute].setdefault(_fold(known), option_id)
        return self._listed[attribute].get(_fold(label))

    def create(self, name: tuple[str, str], resolved: Mapping[tuple[str, str], int]) -> int | None:
        return self._magento.add_attribute_option(*name)

    def problem(self, name: tuple[str, str], exc: RecordError) -> Problem:
        key = self.key(name)
        return Problem("products", key, name[0], f"option {key}: {exc}")


def _fold(name: str) -> str:
    """A category name or option label as Magento compares them: trimmed, case-insensitive."""
    return name.strip().casefold()


def needed_category_paths(
    config: TenantConfig, desired: DesiredCatalogue, products: Mapping[str, Binding]
) -> list[str]:
    """Every path (and its parents) a product write will carry, parents first: all of them when
    categories are owned `always`, only new products' when `on_create`, none when `never`."""
    ownership = config.owns("categories")
    if ownership is Ownership.ALWAYS:
        paths = desired.category_paths
    elif ownership is Ownership.ON_CREATE:
        # New products, and creates whose outcome is unknown (resent as creates unless adopted).
        paths = {
            p.category_path
            for p in desired.products.values()
            if p.category_path is not None
            and (p.sku not in products or binders.pending_kind(products[p.sku]) == "create")
        }
    else:
        paths = set()
    needed = {prefix for path in paths for prefix in category_prefixes(path)}
    return sorted(needed, key=lambda p: (p.count("/"), p))


def needed_options(desired: DesiredCatalogue) -> list[tuple[str, str]]:
    """(attribute, label) of every colour and size the products use."""
    return [
        (attribute, label)
        for attribute, labels in sorted(desired.option_labels.items())
        for label in sorted(labels)
    ]


def ensure_categories(
    ctx: PushContext, desired: DesiredCatalogue, cache: dict[str, Binding], products: Mapping[str, Binding]
) -> dict[str, int]:
    """Path -> category id for every needed path and its parents, creating missing ones parent-first."""
    needed = needed_category_paths(ctx.config, desired, products)
    with ctx.step(BindingKind.CATEGORY.value, len(needed)):
        return ensure_names(ctx, _Categories(ctx.magento, ctx.config.magento.root_category_id), needed, cache)


def ensure_options(
    ctx: PushContext, desired: DesiredCatalogue, cache: dict[str, Binding]
) -> dict[tuple[str, str], int]:
    """(attribute, label) -> option id for every colour and size label used."""
    needed = needed_options(desired)
    with ctx.step(BindingKind.OPTION.value, len(needed)):
        return ensure_names(ctx, _Options(ctx.magento), needed, cache)
