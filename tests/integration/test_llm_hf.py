"""``hf:<folder>``: a tiny randomly initialised causal LM built and saved by the test, loaded by the public spec.

Its output is garbage; the ward round must repair, then fall back to the rules agent of each role, record a
clear issue, and still end with a verified report. No downloads (HF_HUB_OFFLINE=1).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import wardround as wr
from wardround.llm import clear_clients, get_client, usage_by_agent

os.environ["HF_HUB_OFFLINE"] = "1"
FIXTURE_KB = str(Path(__file__).resolve().parents[1] / "fixtures" / "kb")
CASE = {"id": "hf-1", "age": 70, "sex": "male", "note": "70 yo man with crushing chest pain. Denies cough.",
        "labs": [{"name": "troponin", "value": 1.2, "unit": "ng/mL"}]}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A 2-layer GPT-2 with random weights and a 300-token byte-level BPE tokenizer, saved to a folder."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    folder = tmp_path_factory.mktemp("tiny-gpt2")
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<eos>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(['chest pain troponin {"specialties": ["cardiology"]} [E1]'] * 20, trainer)
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<eos>")
    eos = fast.convert_tokens_to_ids("<eos>")
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=len(fast), n_positions=8192, n_embd=32, n_layer=2, n_head=2,
                                     bos_token_id=eos, eos_token_id=eos)
    transformers.GPT2LMHeadModel(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def test_tiny_local_model_loads_through_the_spec_and_its_garbage_falls_back(tiny_model):
    clear_clients()
    spec = f"hf:{tiny_model}?max_tokens=16"
    client = get_client(spec)
    assert type(client.model).__name__ == "LocalHFChat" and client.supports_tools()
    result = wr.run(CASE, model=spec, knowledge=FIXTURE_KB)
    assert result.verified and result.verify().ok
    assert result.diagnosis.primary.name == "Heart attack"  # the embedded reasoner took over
    label = f"hf:{tiny_model}"
    for role in ("triage", "specialist:cardiology", "attending"):
        issue = next(i for i in result.issues if i.startswith(f"{role}:"))
        assert f"model {label} failed" in issue and "after 1 repair" in issue and "not a JSON object" in issue
        assert issue.endswith("the embedded reasoner (rules) took over")
    assert all(op.agent == f"rules (fallback from {label})" for op in result.opinions)
    per = usage_by_agent(result.usage)
    assert per["triage"]["calls"] == 2 and per["triage"]["repairs"] == 1 and per["triage"]["fallbacks"] == 1
    assert result.usage.input_tokens > 0 and result.usage.output_tokens > 0 and result.usage.cost_usd == 0
    clear_clients()
