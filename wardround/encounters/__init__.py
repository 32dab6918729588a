"""Sequential encounters: the doctor asks, examines, orders tests and diagnoses; a gatekeeper answers only from
the hidden case; every answer is cited evidence; turns and money are budgeted; every step is checkpointed.

    from wardround.encounters import DDXPlusGatekeeper, RulesDDXPlusDoctor, run_encounter, EncounterConfig
    result = run_encounter(DDXPlusGatekeeper(item, release), RulesDDXPlusDoctor(reasoner),
                           EncounterConfig(max_turns=30))
    print(render_transcript(result))
"""

from wardround.encounters.case_encounter import CaseGatekeeper, ProtocolCaseDoctor, split_note
from wardround.encounters.costs import DEFAULT_VISIT_FEE_USD, PriceTable, load_price_table
from wardround.encounters.doctor import Doctor, RulesDDXPlusDoctor
from wardround.encounters.gatekeeper import DDXPlusGatekeeper, Gatekeeper, register_case
from wardround.encounters.graph import build_encounter_graph, run_encounter
from wardround.encounters.models import Action, Answer, EncounterConfig, EncounterResult, TurnRecord
from wardround.encounters.transcript import render_transcript

__all__ = [
    "DEFAULT_VISIT_FEE_USD",
    "Action",
    "Answer",
    "CaseGatekeeper",
    "DDXPlusGatekeeper",
    "Doctor",
    "EncounterConfig",
    "EncounterResult",
    "Gatekeeper",
    "PriceTable",
    "ProtocolCaseDoctor",
    "RulesDDXPlusDoctor",
    "TurnRecord",
    "build_encounter_graph",
    "load_price_table",
    "register_case",
    "render_transcript",
    "run_encounter",
    "split_note",
]
