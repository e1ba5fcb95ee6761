"""Where the domain apps plug into the core, so the core never imports them (conventions.md: "the
core imports no domain app").

Each app registers, in its ``AppConfig.ready``:

- **navigation sections**: an area of the main navigation, shown to the roles that may open it;
- **dashboard panels**: ``panel(user, partnership) -> Panel | None`` for the home page;
- **demo steps**: ``step(ctx)`` that loads its part of the demo office, in app order;
- **stalled-work finders**: background jobs whose state lives in the database, with the function
  that finds the stalled ones and the task that does them (``commissioning.jobs`` queues them
  again after a broker outage or a killed worker);
- **digest sections**: reminders an app adds to the weekly e-mail digest (``commissioning.digest``):
  who is reminded this week, and what each of them is told;
- **linkable types**: records that decisions and papers can cite (a schedule, a contract), with the
  records that belong to one (a schedule's budget lines), so governance can find "decisions linked
  to this schedule" without importing budgets.

Registering twice is harmless (``ready`` can run more than once in tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models

# --- Dashboard panels and demo steps ------------------------------------------------------------

PANEL_PROVIDERS: list[Callable] = []
DEMO_STEPS: list[Callable] = []


def add_panel(provider: Callable) -> None:
    if provider not in PANEL_PROVIDERS:
        PANEL_PROVIDERS.append(provider)


def add_demo_step(step: Callable) -> None:
    if step not in DEMO_STEPS:
        DEMO_STEPS.append(step)


# --- Main navigation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One area of the main navigation: shown to users whose role holds ``permission`` (a Django
    permission name; empty for everyone signed in), in ``order``."""

    key: str  # the URL namespace of its pages, so the current area is marked
    label: str
    url_name: str
    permission: str = ""
    order: int = 50


SECTIONS: dict[str, Section] = {}


def add_section(key: str, *, label: str, url_name: str, permission: str = "", order: int = 50) -> None:
    SECTIONS[key] = Section(key=key, label=label, url_name=url_name, permission=permission, order=order)


def sections() -> list[Section]:
    return sorted(SECTIONS.values(), key=lambda section: (section.order, section.label))


# --- Stalled work ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StalledWork:
    """A kind of background job: ``find(cutoff)`` returns the ids of its stalled jobs, ``task`` (a
    Celery task taking one id, idempotent) does one."""

    kind: str
    find: Callable[[Any], list[int]]
    task: Any


STALLED_WORK: dict[str, StalledWork] = {}


def add_stalled_work(kind: str, *, find: Callable[[Any], list[int]], task: Any) -> None:
    STALLED_WORK[kind] = StalledWork(kind=kind, find=find, task=task)


# --- Linkable types -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Linkable:
    """A kind of record that decisions and papers may cite.

    - ``label``: how a form names it ("Schedule").
    - ``choices(user)``: the records of this kind the user may pick (through the gate).
    - ``parts(obj)``: ``(model, queryset)`` pairs of the records that belong to one, so a search for
      decisions linked to a schedule also finds those linked to its lines and virements.
    - ``filter_name``: the decision log's filter for it (``?schedule=<id>``), if it has one.
    """

    model: type[models.Model]
    label: str
    choices: Callable[[Any], models.QuerySet]
    parts: Callable[[models.Model], Iterable[tuple[type[models.Model], models.QuerySet]]] | None = None
    filter_name: str = ""
    filter_label: str = ""
    part_models: tuple[type[models.Model], ...] = ()  # the models ``parts`` returns rows of

    @property
    def key(self) -> str:
        return self.model._meta.label_lower


LINKABLE_TYPES: dict[str, Linkable] = {}


def add_linkable(
    model: type[models.Model],
    *,
    label: str,
    choices: Callable[[Any], models.QuerySet],
    parts: Callable[[models.Model], Iterable[tuple[type[models.Model], models.QuerySet]]] | None = None,
    filter_name: str = "",
    filter_label: str = "",
    part_models: tuple[type[models.Model], ...] = (),
) -> None:
    linkable = Linkable(
        model=model,
        label=label,
        choices=choices,
        parts=parts,
        filter_name=filter_name,
        filter_label=filter_label,
        part_models=part_models,
    )
    LINKABLE_TYPES[linkable.key] = linkable


def linkable(key: str) -> Linkable | None:
    """The registered type by ``app_label.model`` (case-insensitive), or None."""
    return LINKABLE_TYPES.get((key or "").lower())


# --- Digest sections ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestItem:
    """One line of a digest section: what to say, and the page it is about (a path, or "")."""

    text: str
    path: str = ""


@dataclass(frozen=True)
class DigestSection:
    r"""Reminders an app adds to the weekly digest.

    - ``recipients(today)``: the ids of the users to remind this week;
    - ``items(user, today)``: what that user is told (only what the gate still lets them see), as
      ``DigestItem``\s; an empty list sends them nothing for this section.
    """

    key: str
    title: str
    recipients: Callable[[Any], Iterable[int]]
    items: Callable[[Any, Any], list[DigestItem]]


DIGEST_SECTIONS: dict[str, DigestSection] = {}


def add_digest_section(
    key: str,
    *,
    title: str,
    recipients: Callable[[Any], Iterable[int]],
    items: Callable[[Any, Any], list[DigestItem]],
) -> None:
    DIGEST_SECTIONS[key] = DigestSection(key=key, title=title, recipients=recipients, items=items)


def digest_sections() -> list[DigestSection]:
    return [DIGEST_SECTIONS[key] for key in sorted(DIGEST_SECTIONS)]


# --- Fields a domain app adds to a core record --------------------------------------------------


@dataclass(frozen=True)
class DetailRow:
    """One row a domain app adds to a core record's page: a label, what it says (with a link when
    ``url``), and where to change it (``change_url``, only for those who may)."""

    label: str
    text: str
    url: str = ""
    change_url: str = ""
    change_label: str = "Change"


@dataclass(frozen=True)
class ExtensionField:
    """A field a domain app keeps about a core record, in its own table (a contract's funding
    schedule is budgets' ``ContractSchedule``), so the core shows and takes it without importing
    the app:

    - ``api_field()``: a new DRF serializer field for the core record's API (named ``name``); it
      reads the value from the record and validates what a client sends;
    - ``save(instance=, value=, by=)``: the app's service, called in the API write's transaction
      after the core's own service, when the client sent the field;
    - ``select_related``: what the API list fetches with the records, so the field costs no query
      per row;
    - ``rows(user, instance)``: the ``DetailRow``s the record's page shows;
    - ``filter()``: a new django-filter ``Filter`` (named ``name``) added to the record's list
      FilterSets (``add_extensible_filterset``), so the API's and the page's list filter on it
      strictly like their own fields (``contracts/?schedule=``).
    """

    model: type[models.Model]
    name: str
    api_field: Callable[[], Any]
    save: Callable[..., Any]
    select_related: tuple[str, ...] = ()
    rows: Callable[[Any, models.Model], list[DetailRow]] | None = None
    filter: Callable[[], Any] | None = None


EXTENSION_FIELDS: dict[tuple[str, str], ExtensionField] = {}
# Model label -> the core FilterSets listing it, which take the extension fields' filters.
EXTENSIBLE_FILTERSETS: dict[str, list[type]] = {}


def _install_filter(field: ExtensionField, filterset_class: type) -> None:
    """Add ``field``'s filter to the FilterSet's class-level filters (what every instance copies, and
    what the API's strict query check and the schema read). A filter the FilterSet declares itself
    wins."""
    if field.filter is not None and field.name not in filterset_class.base_filters:
        filterset_class.base_filters[field.name] = field.filter()


def add_extension_field(
    model: type[models.Model],
    *,
    name: str,
    api_field: Callable[[], Any],
    save: Callable[..., Any],
    select_related: tuple[str, ...] = (),
    rows: Callable[[Any, models.Model], list[DetailRow]] | None = None,
    filter: Callable[[], Any] | None = None,  # noqa: A002 - the registry's word for it
) -> None:
    field = ExtensionField(
        model=model,
        name=name,
        api_field=api_field,
        save=save,
        select_related=select_related,
        rows=rows,
        filter=filter,
    )
    EXTENSION_FIELDS[(model._meta.label_lower, name)] = field
    for filterset_class in EXTENSIBLE_FILTERSETS.get(model._meta.label_lower, []):
        _install_filter(field, filterset_class)


def add_extensible_filterset(model: type[models.Model], filterset_class: type) -> None:
    """A core FilterSet of ``model``'s list: it takes the filters of ``model``'s extension fields,
    those registered already and those registered later (apps become ready in any order)."""
    sets = EXTENSIBLE_FILTERSETS.setdefault(model._meta.label_lower, [])
    if filterset_class not in sets:
        sets.append(filterset_class)
    for field in extension_fields(model):
        _install_filter(field, filterset_class)


def extension_fields(model: type[models.Model]) -> list[ExtensionField]:
    label = model._meta.label_lower
    return [field for (key, _name), field in sorted(EXTENSION_FIELDS.items()) if key == label]


def detail_rows(model: type[models.Model], user, instance: models.Model) -> list[DetailRow]:
    return [row for field in extension_fields(model) if field.rows for row in field.rows(user, instance)]


# --- Cost feeds ---------------------------------------------------------------------------------

COST_FEEDS: dict[str, Callable[..., Any]] = {}


def add_cost_feed(key: str, feed: Callable[..., Any]) -> None:
    """A domain app's answer to "what do these records cost, month by month": brokerage's
    ``package_costs`` feeds the budget lines fed by packages (rules.md, rule 2), so budgets reads
    package costs without importing brokerage."""
    COST_FEEDS[key] = feed


def cost_feed(key: str) -> Callable[..., Any] | None:
    return COST_FEEDS.get(key)
