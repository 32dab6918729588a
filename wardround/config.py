"""WardConfig: model per role, specialties, limits; read from a LangGraph ``RunnableConfig``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wardround.errors import ConfigError


class WardConfig(BaseModel):
    """Settings of one ward round.

    ``model`` is the default for every role; ``triage_model`` / ``specialist_model`` / ``attending_model``
    override it per role. ``"rules"`` is the embedded knowledge-based reasoner.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    model: Any = "rules"
    triage_model: Any = None
    specialist_model: Any = None
    attending_model: Any = None
    specialties: list[str] | None = Field(None, description="restrict triage to these specialties")
    max_specialists: int = Field(3, ge=1, le=12)
    min_triage_share: float = Field(0.3, ge=0.0, le=1.0,
                                    description="consult specialties scoring at least this share of the best")
    differential_size: int = Field(5, ge=1, le=20)
    human_review: bool = False
    run_dir: str | None = Field(None, description="folder for artifacts (segmentation masks, overlays)")
    use_calculators: bool = True
    use_imaging: bool = True
    knowledge: str | None = Field(None, description="folder of an alternative knowledge base (default: shipped)")
    knowledge_extra: list[str] = Field(default_factory=list, description="folders that extend the knowledge base "
                                       "(conditions/*.yaml with their findings and references; docs/knowledge.md)")

    def model_for(self, role: str) -> Any:
        """The model spec for ``role`` (triage, specialist or attending)."""
        return getattr(self, f"{role}_model", None) or self.model


def ward_config(config: Mapping[str, Any] | None) -> WardConfig:
    """Read the ``WardConfig`` from a RunnableConfig (``configurable.ward`` or flat ``configurable`` keys)."""
    if config is None:
        return WardConfig()
    configurable = dict(config.get("configurable") or {})
    ward = configurable.get("ward")
    if isinstance(ward, WardConfig):
        return ward
    if isinstance(ward, Mapping):
        data = dict(ward)
    else:
        data = {k: v for k, v in configurable.items() if k in WardConfig.model_fields}
    try:
        return WardConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field = ".".join(str(x) for x in err["loc"])
        raise ConfigError(f"{field}: {err['msg']}") from None
