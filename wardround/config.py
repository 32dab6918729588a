"""WardConfig: model per role, specialties, limits; read from a LangGraph ``RunnableConfig``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from wardround.errors import ConfigError


class McpServer(BaseModel):
    """An MCP server whose tools specialists in LLM mode may call (``WardConfig.mcp_servers``; docs/mcp.md).

    Its tools are offered to the model as ``<name>_<tool>``; every result they return is recorded as ``tool``
    evidence (``mcp:<name>/<tool>``) that the model can cite and that verification re-checks.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,30}$", description="short snake_case name; prefixes its tools")
    transport: Literal["stdio", "streamable_http"] = "stdio"
    command: str | None = Field(None, description="stdio: the program to start, e.g. 'wardround'")
    args: list[str] = Field(default_factory=list, description="stdio: its arguments, e.g. ['mcp']")
    env: dict[str, str] | None = Field(None, description="stdio: its environment (default: a minimal one)")
    cwd: str | None = Field(None, description="stdio: its working folder")
    url: str | None = Field(None, description="streamable_http: the endpoint, e.g. http://127.0.0.1:8765/mcp")
    headers: dict[str, str] | None = Field(None, description="streamable_http: extra request headers")
    tools: list[str] | None = Field(None, description="offer only these tools of the server (default: all)")
    specialties: list[str] | None = Field(None, description="offer them only to these specialists (default: all)")
    timeout: float = Field(60.0, gt=0, le=3600, description="seconds to connect, and for each tool call")

    @model_validator(mode="after")
    def _endpoint(self) -> McpServer:
        if self.transport == "stdio" and not self.command:
            raise ValueError(f"MCP server {self.name!r}: a stdio server needs 'command' (e.g. command='wardround', "
                             "args=['mcp'])")
        if self.transport == "streamable_http" and not (self.url or "").startswith(("http://", "https://")):
            raise ValueError(f"MCP server {self.name!r}: a streamable_http server needs 'url' "
                             "(e.g. 'http://127.0.0.1:8765/mcp')")
        return self

    def connection(self) -> dict[str, Any]:
        """The connection mapping ``langchain-mcp-adapters`` takes for this server."""
        if self.transport == "stdio":
            return {"transport": "stdio", "command": self.command, "args": list(self.args), "env": self.env,
                    "cwd": self.cwd}
        return {"transport": "streamable_http", "url": self.url, "headers": self.headers, "timeout": self.timeout}


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
    mcp_servers: list[McpServer] = Field(default_factory=list, description="MCP servers whose tools specialists "
                                         "in LLM mode may call; their results become citable evidence (docs/mcp.md)")

    @model_validator(mode="after")
    def _unique_mcp_names(self) -> WardConfig:
        names = [s.name for s in self.mcp_servers]
        if len(set(names)) != len(names):
            raise ValueError(f"mcp_servers: two servers share a name ({', '.join(names)}); give each its own name")
        return self

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
