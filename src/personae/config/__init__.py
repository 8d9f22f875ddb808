"""One typed settings object for the whole of personae.

Values come from (highest first): explicit arguments (e.g. the CLI's ``--db``), environment
variables prefixed ``PERSONAE_`` (nested with ``__``, e.g. ``PERSONAE_IDENTITY__DEFAULT_COUNTRY_CODE``),
an optional ``personae.yaml`` in the working directory, and the defaults below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from personae.clock import DEFAULT_ZONE, check_zone
from personae.config.experience import ExperienceSettings
from personae.config.ingest import IngestSettings
from personae.config.personalize import PersonalizeSettings
from personae.config.service import ServiceSettings
from personae.config.traits import TraitSettings
from personae.config.voice import VoiceSettings
from personae.errors import InputError


class IdentitySettings(BaseModel):
    """How identity resolution links identifiers."""

    blocked: list[str] = Field(
        default_factory=lambda: [
            "unknown@example.com",
            "noemail@example.com",
            "test@test.com",
            "none@none.com",
            "0000000000",
            "+0000000000",
            "1234567890",
            "n/a",
            "none",
            "unknown",
            "null",
            "-",
        ],
        description="Identifier values that never link profiles (compared after normalising).",
    )
    default_country_code: str = Field(
        "1", description="Calling code used to turn national phone numbers into E.164."
    )


class ClvSettings(BaseModel):
    """Lifetime-value model settings (see docs/clv.md)."""

    model: Literal["auto", "bg_nbd", "mbg_nbd", "pareto_nbd"] = Field(
        "auto",
        description="Repeat-purchase model: bg_nbd, mbg_nbd, pareto_nbd, or auto (fit each on a "
        "calibration period, keep the one with the lowest per-customer holdout error).",
    )
    opportunity: Literal["none", "week", "month"] = Field(
        "none",
        description="Discrete purchase opportunities for the BG/BB model (events, newsletters): "
        "week or month turns orders into purchase/no-purchase per period; none = purchases can "
        "happen any day (BG/BB is then not considered).",
    )
    horizon_months: int = Field(12, ge=1, description="CLV horizon.")
    discount_rate_annual: float = Field(0.10, ge=0, description="Annual discount rate for CLV.")
    time_unit: Literal["D", "W"] = Field("D", description="D (days) or W (weeks) for the models.")
    interval: float = Field(0.90, gt=0, lt=1, description="Coverage of the CLV uncertainty interval.")
    seed: int = Field(0, description="Seed for the parameter draws behind the interval.")
    interval_draws: int = Field(
        40, ge=0, description="Parameter draws (or bootstrap refits) for the CLV interval (0 = no interval)."
    )
    predictive_draws: int = Field(
        200,
        ge=0,
        description="Simulated futures per customer for the predictive CLV interval "
        "(clv_12m_predictive_low/high: what the customer may actually spend); 0 = none.",
    )
    exclude_returned: bool = Field(True, description="Leave returned lines out of transactions.")
    fallback_penalizer: float = Field(
        1e-4,
        ge=0,
        description="When plain maximum likelihood cannot identify BG/NBD (a parameter runs off to "
        "0 or infinity), refit with this L2 penalty (as lifetimes' penalizer_coef); 0 = give up.",
    )


class SparkSettings(BaseModel):
    """The Spark engine (``engine: spark``; see docs/scaling.md)."""

    master: str | None = Field(
        None,
        description="Spark master URL (spark://host:7077, yarn, k8s://…, local[4]); "
        "default: spark-submit's choice, else local[*].",
    )
    conf: dict[str, str] = Field(
        default_factory=dict,
        description="Extra Spark settings, e.g. {'spark.executor.memory': '8g'}.",
    )


class PrivacySettings(BaseModel):
    """Erasure, retention and pseudonymisation (see docs/privacy.md)."""

    tombstones: bool = Field(
        True,
        description="Keep keyed hashes of an erased person's identifiers so that re-ingesting an "
        "old file does not re-create them.",
    )
    retention_days: int | None = Field(
        None, ge=1, description="Purge raw events older than this many days (None: keep them)."
    )


class Settings(BaseSettings):
    """Every setting personae reads."""

    model_config = SettingsConfigDict(env_prefix="PERSONAE_", env_nested_delimiter="__", extra="ignore")

    db: Path = Field(Path("personae.duckdb"), description="DuckDB database file.")
    engine: Literal["duckdb", "spark"] = Field(
        "duckdb", description="duckdb (one file, the default) or spark (the warehouse below)."
    )
    warehouse: str = Field(
        "personae-warehouse",
        description="Spark engine: folder or URI (s3a://…, hdfs://…) of the Parquet tables.",
    )
    memory_limit: str | None = Field(
        "3GB",
        description="DuckDB engine: the most memory a query may hold (e.g. '3GB'); beyond it the "
        "engine spills to temporary files next to the database instead of growing. Keeps a "
        "build on a shared machine predictable (DuckDB's own default is 80% of RAM). "
        "Empty for DuckDB's default.",
    )
    timezone: str = Field(
        DEFAULT_ZONE,
        description="The shop's time zone, an IANA name such as Europe/Berlin: timestamps without "
        "an offset are read as its local time, and dayparts, weekdays, months, holiday periods, "
        "anniversaries and 'today' follow its clock (see docs/traits.md#the-shops-time-zone). "
        "Stored timestamps stay UTC instants, so changing it needs no re-ingest of offset-aware "
        "data (naive ones were read in the zone set at the time).",
    )
    spark: SparkSettings = Field(default_factory=SparkSettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    traits: TraitSettings = Field(default_factory=TraitSettings)
    clv: ClvSettings = Field(default_factory=ClvSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    experience: ExperienceSettings = Field(default_factory=ExperienceSettings)
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    voice: VoiceSettings = Field(default_factory=VoiceSettings)
    personalize: PersonalizeSettings = Field(default_factory=PersonalizeSettings)
    config_file: Path = Field(Path("personae.yaml"), description="Optional YAML overrides.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        return check_zone(v)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlSource(settings_cls))


class _YamlSource(PydanticBaseSettingsSource):
    """Reads ``personae.yaml`` (or ``$PERSONAE_CONFIG_FILE``) if it exists."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        import os

        path = Path(os.environ.get("PERSONAE_CONFIG_FILE", "personae.yaml"))
        if not path.is_file():
            return {}
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise InputError(f"{path}: not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise InputError(f"{path}: expected a mapping of settings at the top level")
        return data


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, with ``overrides`` (e.g. ``db=...``) taking precedence.

    A value that fails its check is one :class:`InputError` (the first problem, with its hint),
    never a traceback.
    """
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        cause = (first.get("ctx") or {}).get("error")
        if isinstance(cause, InputError):
            raise InputError(cause.message, hint=cause.hint) from None
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        raise InputError(
            f"setting {where}: {first.get('msg', 'invalid value')}",
            hint="fix it in personae.yaml or the PERSONAE_… environment variable",
        ) from None
