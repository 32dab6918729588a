"""Local Hugging Face models (``hf:<folder>``): a causal LM run through transformers as a LangChain chat model."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict

from wardround.errors import ConfigError

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

log = logging.getLogger(__name__)


try:  # langchain-core is a core dependency; guard only so that the module imports in minimal environments
    from langchain_core.language_models import BaseChatModel as _BaseChatModel
except ImportError:  # pragma: no cover
    _BaseChatModel = object  # type: ignore[assignment,misc]


class LocalHFChat(_BaseChatModel):  # type: ignore[misc,valid-type]
    """A causal LM and tokenizer from a local folder as a LangChain chat model (transformers, CPU or GPU).

    The prompt uses the tokenizer's chat template when it has one (tools passed to it), else a plain
    ``role: text`` transcript. Tool calls are read from ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``
    blocks (the Hermes/Qwen convention) or from a bare JSON object with ``name`` and ``arguments``.
    """

    folder: str
    max_new_tokens: int = 256
    temperature: float = 0.0
    model_config = ConfigDict(arbitrary_types_allowed=True)

    _lm: Any = None
    _tokenizer: Any = None
    _lock: Any = None

    @classmethod
    def from_folder(cls, folder: str, *, max_new_tokens: int = 256, temperature: float = 0.0) -> LocalHFChat:
        """Load ``folder`` (``config.json``, weights, tokenizer files) with ``local_files_only=True``."""
        p = Path(folder).expanduser()
        if not p.is_dir():
            raise ConfigError(f"model: 'hf:{folder}' is not a folder; hf: loads local weights only "
                              "(a folder written by save_pretrained with config.json, weights and tokenizer)")
        if not (p / "config.json").is_file():
            raise ConfigError(f"model: 'hf:{folder}' has no config.json; save the model with save_pretrained")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise ConfigError("model: hf: specs need transformers and torch; pip install 'wardround[hf]'") from None
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(p), local_files_only=True)
            lm = AutoModelForCausalLM.from_pretrained(str(p), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"model: cannot load 'hf:{folder}': {' '.join(str(exc).split())[:200]}") from None
        lm.eval()
        obj = cls(folder=str(p), max_new_tokens=max_new_tokens, temperature=temperature)
        obj._lm, obj._tokenizer, obj._lock = lm, tokenizer, threading.Lock()
        return obj

    @property
    def _llm_type(self) -> str:
        return "wardround-hf-local"

    @property
    def model_name(self) -> str:
        """The folder name."""
        return f"hf:{Path(self.folder).name}"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        """Bind tools: their schemas go into the prompt; calls are parsed from the generated text."""
        from langchain_core.utils.function_calling import convert_to_openai_tool

        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _prompt(self, messages: Sequence[BaseMessage], tools: list[dict] | None) -> str:
        tok = self._tokenizer
        chat = []
        for m in messages:
            role = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}.get(m.type, "user")
            chat.append({"role": role, "content": m.content if isinstance(m.content, str) else json.dumps(m.content)})
        if getattr(tok, "chat_template", None):
            try:
                return tok.apply_chat_template(chat, tools=tools or None, tokenize=False, add_generation_prompt=True)
            except Exception as exc:  # a template that rejects tools or roles: fall back to a transcript
                log.debug("chat template failed (%s); using a plain transcript", exc)
        text = ""
        if tools:
            text += "Tools (call one with <tool_call>{\"name\": ..., \"arguments\": {...}}</tool_call>):\n"
            text += "\n".join(json.dumps(t["function"]) for t in tools) + "\n\n"
        text += "\n".join(f"{c['role']}: {c['content']}" for c in chat)
        return text + "\nassistant:"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                  **kwargs: Any) -> Any:
        import torch
        from langchain_core.messages import AIMessage
        from langchain_core.outputs import ChatGeneration, ChatResult

        tok, lm = self._tokenizer, self._lm
        prompt = self._prompt(messages, kwargs.get("tools"))
        enc = tok(prompt, return_tensors="pt")
        limit = getattr(lm.config, "max_position_embeddings", None) or getattr(lm.config, "n_positions", None)
        ids = enc["input_ids"]
        if limit and ids.shape[1] + self.max_new_tokens > limit:  # keep the end of a prompt too long for the model
            keep = max(1, limit - self.max_new_tokens)
            ids = ids[:, -keep:]
        attention = torch.ones_like(ids)
        gen_kwargs: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "do_sample": self.temperature > 0}
        if self.temperature > 0:
            gen_kwargs["temperature"] = self.temperature
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        if pad is not None:
            gen_kwargs["pad_token_id"] = pad
        with self._lock, torch.no_grad():
            out = lm.generate(input_ids=ids, attention_mask=attention, **gen_kwargs)
        new = out[0, ids.shape[1]:]
        text = tok.decode(new, skip_special_tokens=True)
        if stop:
            for s in stop:
                if s in text:
                    text = text[: text.index(s)]
        content, calls = parse_text_tool_calls(text)
        message = AIMessage(content=content, tool_calls=calls,
                            usage_metadata={"input_tokens": int(ids.shape[1]), "output_tokens": int(new.shape[0]),
                                            "total_tokens": int(ids.shape[1] + new.shape[0])})
        if run_manager is not None and content:
            run_manager.on_llm_new_token(content)
        return ChatResult(generations=[ChatGeneration(message=message)])


def parse_text_tool_calls(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Split generated text into its prose and the tool calls written as ``<tool_call>{json}</tool_call>``."""
    import re

    calls: list[dict[str, Any]] = []

    def take(raw: str) -> bool:
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError:
            return False
        if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
            return False
        args = obj.get("arguments", obj.get("args", {}))
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except json.JSONDecodeError:
                return False
        if not isinstance(args, dict):
            return False
        calls.append({"name": obj["name"], "args": args, "id": f"call_{len(calls) + 1}", "type": "tool_call"})
        return True

    rest = text
    for m in re.finditer(r"<tool_call>\s*(.*?)\s*</tool_call>", text, flags=re.S):
        if take(m.group(1)):
            rest = rest.replace(m.group(0), "")
    return rest.strip(), calls
