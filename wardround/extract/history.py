"""History, findings and the subjective items clinical scores ask for, with ConText assertion status.

A *concept* is one item a score can ask about ("history of stroke", "active cancer", "current smoker",
"pitting oedema"). Each concept has spelling patterns; every mention in the note is classified with
``assertion_context`` (negated / historical / family / hypothetical) and keeps its exact span, extended to the
negation trigger when negated so that the quote shows why the item counts as absent ("denies chest pain").

Counts and amounts that scores use are read here too: alcoholic drinks per week.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from wardround.extract.context import Context, assertion_context
from wardround.patterns import (
    literal_first,
    literal_prefix,
    lowered,
    word_start_matches,
    word_start_matches_indexed,
)

# concept id -> (patterns, words that must NOT stand right before the match)
_C: dict[str, tuple[tuple[str, ...], str | None]] = {
    "hypertension": ((r"hypertension", r"htn", r"high blood pressure", r"hypertensive(?!\s+(?:emergency|urgency|"
                      r"crisis|encephalopathy))", r"elevated blood pressure"),
                     r"(?:pulmonary|portal|intracranial|ocular|idiopathic intracranial|renovascular|gestational|"
                     r"pregnancy[- ]induced|white[- ]coat|arterial pulmonary)\s*$"),
    "diabetes": ((r"diabetes(?!\s+insipidus)(?:\s+mellitus)?", r"diabetic", r"t[12]dm", r"dm(?:\s*(?:type\s*)?[12i]+)?",
                  r"niddm", r"iddm", r"type\s*[12i]+\s+diabetes", r"hyperglycemia on treatment"),
                 r"(?:pre|gestational|no\s+)\s*$"),
    "congestive_heart_failure": ((r"(?:congestive\s+)?heart\s+failure", r"chf", r"hfref", r"hfpef", r"cardiac\s+failure",
                                  r"(?:left|right)\s+ventricular\s+failure", r"lv\s+dysfunction",
                                  r"(?:left\s+)?ventricular\s+systolic\s+dysfunction", r"reduced\s+ejection\s+fraction",
                                  r"(?:dilated|ischemic|ischaemic)\s+cardiomyopathy", r"cardiomyopathy",
                                  r"pulmonary\s+edema", r"pulmonary\s+oedema"), None),
    "stroke": ((r"stroke", r"cva", r"cerebrovascular\s+(?:accident|event|insult)", r"cerebral\s+infarct(?:ion)?",
                r"(?:ischemic|ischaemic|hemorrhagic|haemorrhagic|lacunar|embolic)\s+infarct(?:ion)?",
                r"brain\s+infarct(?:ion)?", r"cerebellar\s+infarct(?:ion)?"), r"(?:heat|sun)\s*$"),
    "transient_ischemic_attack": ((r"transient\s+isch(?:a)?emic\s+attacks?", r"tias?"), None),
    "thromboembolism": ((r"(?:systemic|arterial|peripheral)\s+(?:thrombo)?embol(?:ism|i|us)", r"thromboembolism",
                         r"thromboembolic\s+(?:event|disease|episode)s?", r"embolic\s+event"), None),
    "myocardial_infarction": ((r"myocardial\s+infarctions?", r"(?:n?stemi|nste-?mi)", r"\bmi\b", r"heart\s+attacks?",
                               r"acute\s+coronary\s+syndrome", r"myocardial\s+infarct"), None),
    "coronary_artery_disease": ((r"coronary\s+(?:artery|arterial|heart)\s+disease", r"cad", r"ischemic\s+heart\s+disease",
                                 r"ischaemic\s+heart\s+disease", r"angina(?:\s+pectoris)?", r"coronary\s+stenosis",
                                 r"ihd"), None),
    "coronary_revascularization": ((r"pci", r"percutaneous\s+coronary\s+intervention", r"cabg",
                                    r"coronary\s+artery\s+bypass(?:\s+graft(?:ing)?)?", r"coronary\s+stent(?:ing|s)?",
                                    r"stent(?:ing)?\s+(?:of|to|in)\s+the\s+(?:lad|rca|lcx|circumflex|left\s+anterior)"),
                                   None),
    "peripheral_artery_disease": ((r"peripheral\s+(?:arterial|artery|vascular)\s+disease", r"pad", r"pvd",
                                   r"claudication", r"aortic\s+aneurysm", r"aortic\s+plaque",
                                   r"peripheral\s+arterial\s+occlusive\s+disease"), None),
    "dementia": ((r"dementia", r"alzheimer'?s?(?:\s+disease)?", r"cognitive\s+impairment", r"memory\s+impairment"),
                 r"(?:mild)\s*$"),
    "copd": ((r"copd", r"chronic\s+obstructive\s+pulmonary\s+disease", r"emphysema", r"chronic\s+bronchitis",
              r"chronic\s+obstructive\s+lung\s+disease"), None),
    "chronic_lung_disease": ((r"asthma", r"interstitial\s+lung\s+disease", r"pulmonary\s+fibrosis",
                              r"bronchiectasis", r"chronic\s+lung\s+disease"), None),
    "connective_tissue_disease": ((r"systemic\s+lupus\s+erythematosus", r"sle", r"lupus(?!\s+anticoagulant)",
                                   r"rheumatoid\s+arthritis", r"scleroderma", r"systemic\s+sclerosis",
                                   r"polymyositis", r"dermatomyositis", r"mixed\s+connective\s+tissue\s+disease",
                                   r"polymyalgia\s+rheumatica", r"sj[oö]gren'?s?(?:\s+syndrome)?",
                                   r"connective\s+tissue\s+disease"), None),
    "peptic_ulcer_disease": ((r"peptic\s+ulcers?(?:\s+disease)?", r"gastric\s+ulcers?", r"duodenal\s+ulcers?", r"pud"),
                             None),
    "liver_disease": ((r"cirrhosis", r"chronic\s+liver\s+disease", r"liver\s+disease", r"chronic\s+hepatitis",
                       r"hepatitis\s+[bc]", r"hepatic\s+(?:disease|failure|insufficiency)", r"liver\s+failure",
                       r"nash", r"nafld", r"fatty\s+liver", r"alcoholic\s+hepatitis", r"hepatic\s+fibrosis",
                       r"portal\s+hypertension", r"esophageal\s+varices", r"oesophageal\s+varices",
                       r"cirrhotic"), None),
    "cirrhosis": ((r"cirrhosis", r"cirrhotic"), None),
    "portal_hypertension": ((r"portal\s+hypertension", r"(?:o)?esophageal\s+varices", r"gastric\s+varices",
                             r"variceal\s+(?:bleed(?:ing)?|hemorrhage)", r"varices"), None),
    "diabetic_end_organ_damage": ((r"diabetic\s+(?:retinopathy|nephropathy|neuropathy|foot|kidney\s+disease)",
                                   r"(?:retinopathy|nephropathy|neuropathy)"), None),
    "hemiplegia": ((r"hemiplegi[ac]", r"hemiparesis", r"hemiparetic", r"paraplegi[ac]", r"quadriplegi[ac]",
                    r"tetraplegi[ac]", r"(?:paralysis|paralyzed|paralysed)\s+(?:on|of)\s+(?:the\s+|his\s+|her\s+)?"
                    r"(?:left|right)\s+(?:side|half)", r"(?:left|right)[- ]sided\s+(?:paralysis|hemiparesis)"), None),
    "chronic_kidney_disease": ((r"chronic\s+kidney\s+disease", r"ckd", r"chronic\s+renal\s+(?:failure|insufficiency|"
                                r"disease)", r"end[- ]stage\s+(?:renal|kidney)\s+disease", r"esrd", r"esrf",
                                r"renal\s+insufficiency", r"diabetic\s+nephropathy", r"nephrotic\s+syndrome"), None),
    "dialysis": ((r"(?:hemo|haemo|peritoneal\s+)?dialysis", r"hemodialysis", r"haemodialysis", r"cvvhd?f?",
                  r"continuous\s+veno-?venous\s+hemo(?:dia)?filtration", r"renal\s+replacement\s+therapy"), None),
    "kidney_transplant": ((r"(?:renal|kidney)\s+transplant(?:ation)?",), None),
    "severe_ckd": ((r"(?:ckd|chronic\s+kidney\s+disease)\s*(?:stage\s*)?(?:4|5|iv|v)\b", r"end[- ]stage\s+(?:renal|kidney)",
                    r"esrd", r"esrf", r"uremia", r"uraemia"), None),
    "renal_impairment": ((r"renal\s+(?:impairment|dysfunction|insufficiency)", r"impaired\s+(?:renal|kidney)\s+function",
                          r"chronic\s+kidney\s+disease", r"ckd", r"kidney\s+disease"), None),
    "chronic_liver_disease": ((r"cirrhosis", r"cirrhotic", r"chronic\s+hepatitis", r"chronic\s+liver\s+disease",
                               r"hepatic\s+fibrosis", r"hepatitis\s+[bc]"), None),
    "acute_kidney_injury": ((r"acute\s+kidney\s+injury", r"aki", r"acute\s+renal\s+(?:failure|injury|insufficiency)",
                             r"arf"), None),
    "cancer": ((r"cancers?", r"carcinomas?", r"malignan(?:cy|cies|t\s+(?:neoplasm|tumou?r|melanoma))",
                r"adenocarcinoma", r"sarcoma", r"melanoma", r"lymphoma", r"leuka?emia", r"myeloma",
                r"metasta(?:sis|ses|tic)", r"neoplasm", r"oncologic", r"tumou?r", r"glioblastoma",
                r"mesothelioma", r"blastoma", r"neoplastic\s+disease"), r"(?:benign|no\s+evidence\s+of)\s*$"),
    "metastatic": ((r"metasta(?:sis|ses|tic|sized|sised)", r"stage\s+iv", r"stage\s+4"), None),
    "leukemia": ((r"leuka?emia", r"\ball\b", r"\baml\b", r"\bcll\b", r"\bcml\b"), None),
    "lymphoma": ((r"lymphoma", r"hodgkin'?s?(?:\s+disease)?"), None),
    "aids": ((r"aids", r"acquired\s+immunodeficiency\s+syndrome"), None),
    "hiv": ((r"hiv",), None),
    "cancer_treatment": ((r"chemotherapy", r"radiotherapy", r"radiation\s+therapy", r"chemoradiation",
                          r"immunotherapy", r"palliative\s+care", r"palliative"), None),
    # acute presentation items
    "confusion": ((r"confus(?:ed|ion)", r"disorient(?:ed|ation)", r"altered\s+mental\s+(?:status|state)", r"\bams\b",
                   r"altered\s+(?:sensorium|consciousness|mentation|level\s+of\s+consciousness)", r"delirium",
                   r"delirious", r"obtunded", r"lethargic", r"somnolent", r"stupor(?:ous)?", r"unresponsive",
                   r"agitated\s+and\s+confused", r"encephalopathy", r"drowsy", r"not\s+oriented"), None),
    "nursing_home": ((r"nursing\s+home", r"long[- ]term\s+care\s+facility", r"assisted\s+living",
                      r"skilled\s+nursing\s+facility", r"care\s+home", r"residential\s+care"), None),
    "pleural_effusion": ((r"pleural\s+effusions?", r"hydrothorax"), None),
    "hemoptysis": ((r"h(?:a)?emoptysis", r"coughing\s+(?:up\s+)?blood", r"blood[- ]tinged\s+sputum",
                    r"bloody\s+sputum"), None),
    "pulmonary_embolism": ((r"pulmonary\s+embol(?:ism|i|us)", r"\bpe\b", r"pulmonary\s+thromboembolism"), None),
    "deep_vein_thrombosis": ((r"deep\s+ve(?:in|nous)\s+thrombos(?:is|es)", r"\bdvt\b",
                              r"(?:femoral|popliteal|iliac|calf|leg)\s+(?:vein\s+)?thrombosis",
                              r"venous\s+thromboembolism", r"\bvte\b", r"venous\s+thrombosis"), None),
    "leg_swelling": ((r"(?:leg|calf|lower[- ]extremity|lower[- ]limb|ankle)\s+(?:swelling|edema|oedema)",
                      r"swollen\s+(?:left|right)?\s*(?:leg|calf|lower\s+(?:extremity|limb))",
                      r"swelling\s+of\s+the\s+(?:left|right)?\s*(?:leg|calf|lower\s+(?:extremity|limb))",
                      r"(?:pedal|peripheral|bilateral\s+lower\s+extremity)\s+(?:edema|oedema)"), None),
    "unilateral_leg_swelling": ((r"(?:left|right|unilateral)\s+(?:leg|calf|lower[- ]extremity|lower[- ]limb)\s+"
                                 r"(?:swelling|edema|oedema)", r"swollen\s+(?:left|right)\s+(?:leg|calf|lower\s+"
                                 r"(?:extremity|limb))", r"swelling\s+of\s+the\s+(?:left|right)\s+(?:leg|calf|lower\s+"
                                 r"(?:extremity|limb))", r"unilateral\s+(?:leg\s+)?(?:swelling|edema)"), None),
    "entire_leg_swollen": ((r"(?:entire|whole)\s+(?:left\s+|right\s+)?(?:leg|lower\s+(?:extremity|limb))\s+(?:was\s+|is\s+)?"
                            r"(?:swollen|swelling|edematous)", r"swelling\s+of\s+the\s+(?:entire|whole)\s+"
                            r"(?:left\s+|right\s+)?(?:leg|lower\s+(?:extremity|limb))"), None),
    "calf_swelling": ((r"calf\s+(?:swelling|circumference)", r"swollen\s+(?:left\s+|right\s+)?calf"), None),
    "pitting_edema": ((r"pitting\s+(?:edema|oedema)",), None),
    "collateral_veins": ((r"collateral\s+(?:superficial\s+)?veins", r"superficial\s+collateral\s+veins",
                          r"dilated\s+superficial\s+veins"), None),
    "deep_vein_tenderness": ((r"tenderness\s+along\s+the\s+(?:deep\s+)?ve(?:in|nous)", r"calf\s+tenderness",
                              r"tender(?:ness)?\s+(?:left\s+|right\s+)?calf", r"(?:popliteal|femoral)\s+tenderness",
                              r"tenderness\s+(?:of|in|over)\s+the\s+(?:left\s+|right\s+)?(?:calf|thigh|popliteal)"),
                             None),
    "paralysis_or_cast": ((r"paralysis", r"paresis", r"plaster\s+cast", r"(?:leg|lower\s+extremity)\s+cast",
                           r"immobili[sz]ation\s+of\s+the\s+(?:leg|lower\s+extremity)", r"in\s+a\s+cast"), None),
    "bedridden": ((r"bed[- ]?ridden", r"bed\s*rest", r"confined\s+to\s+bed", r"immobili[sz]ed",
                   r"immobili[sz]ation", r"immobile", r"non-?ambulatory"), None),
    "recent_surgery": ((r"(?:recent|recently)\s+(?:underwent\s+)?(?:\w+\s+){0,3}surgery",
                        r"post-?operative(?:ly)?\s+day", r"post-?op(?:erative)?\s+day", r"pod\s*#?\d",
                        r"(?:days?|weeks?)\s+(?:after|following|post)\s+(?:\w+\s+){0,3}(?:surgery|operation|"
                        r"arthroplasty|resection|repair)", r"underwent\s+(?:\w+\s+){0,4}(?:surgery|"
                        r"(?:\w*ectomy)|arthroplasty|(?:\w*otomy)|repair|replacement|resection|amputation)"),
                       None),
    # "focused assessment with sonography for trauma" names an examination, not an injury
    "trauma": ((r"trauma", r"motor\s+vehicle\s+(?:accident|collision)", r"mva", r"fall\s+from", r"fractures?"),
               r"(?:sonography\s+for|fast\s+for)\s*$"),
    "hormone_use": ((r"oral\s+contraceptives?(?:\s+pills?)?", r"ocps?", r"birth\s+control\s+pills?",
                     r"hormone\s+replacement\s+therapy", r"hrt", r"estrogen\s+(?:therapy|use|replacement)",
                     r"oestrogen", r"hormonal\s+contracept(?:ion|ive)"), None),
    "malignancy_active": ((r"active\s+(?:cancer|malignancy)", r"undergoing\s+(?:chemotherapy|radiotherapy|treatment)",
                           r"receiving\s+(?:chemotherapy|radiotherapy)", r"on\s+chemotherapy"), None),
    # pharyngitis
    # named fevers that are diseases, not the finding ("scarlet fever", "Q fever"); "a fever" is the finding
    "fever": ((r"fever(?:s|ish)?", r"febrile", r"pyrexia", r"pyrexial"), r"\b(?:q|scarlet|rheumatic|yellow|hay|"
                                                                         r"typhoid|dengue|lassa|valley)\s*$"),
    "cough": ((r"cough(?:s|ing)?",), None),
    "coryza": ((r"coryza", r"rhinorrh(?:o)?ea", r"runny\s+nose", r"nasal\s+congestion", r"rhinitis",
                r"nasal\s+discharge", r"sneezing"), None),
    "tonsillar_exudate": ((r"tonsil(?:lar)?\s+exudates?", r"exudat(?:ive|es?)\s+(?:tonsil(?:litis|s)?|pharyngitis)",
                           r"exudates?\s+(?:on|over)\s+the\s+tonsils", r"purulent\s+exudates?",
                           r"white\s+(?:patches|exudates?|plaques)\s+(?:on|over)\s+(?:the\s+)?tonsils",
                           r"exudates?"), None),
    "tonsillar_swelling": ((r"(?:enlarged|swollen|hypertrophied|hypertrophic)\s+tonsils",
                            r"tonsil(?:lar)?\s+(?:swelling|enlargement|hypertrophy)", r"tonsils\s+(?:were|are)\s+"
                            r"(?:enlarged|swollen)", r"grade\s+[2-4]\s+tonsils", r"kissing\s+tonsils"), None),
    "inflamed_tonsils": ((r"(?:inflamed|erythematous|red|hyperemic|injected)\s+tonsils",
                          r"tonsil(?:lar)?\s+(?:inflammation|erythema|hyperemia)", r"tonsillitis",
                          r"tonsils\s+(?:were|are)\s+(?:inflamed|erythematous|red|swollen|enlarged)",
                          r"(?:severely\s+)?inflamed\s+tonsils"), None),
    "purulence": ((r"purulen(?:t|ce)", r"pus", r"exudat(?:e|es|ive)"), None),
    "cervical_adenopathy": ((r"(?:tender\s+)?(?:anterior\s+)?cervical\s+(?:lymph\s*adenopathy|lymphadenopathy|"
                             r"adenopathy|lymph\s+nodes?|nodes?)", r"(?:swollen|tender|enlarged)\s+(?:anterior\s+)?"
                             r"(?:cervical\s+)?(?:lymph\s+)?nodes?\s+(?:in|of)\s+the\s+neck",
                             r"(?:tender|swollen|enlarged)\s+(?:lymph\s+)?nodes?\s+(?:in|of)\s+the\s+(?:anterior\s+)?neck",
                             r"lymphadenopathy"), None),
    # bleeding, GI
    "melena": ((r"mel(?:a)?ena", r"black\s+(?:tarry\s+)?stools?", r"tarry\s+stools?"), None),
    "syncope": ((r"syncop(?:e|al)", r"fainted", r"faint(?:ing)?\s+(?:episode|spell)", r"passed\s+out",
                 r"loss\s+of\s+consciousness"), None),
    "major_bleeding": ((r"(?:major|significant|severe|gastrointestinal|gi|intracranial|intracerebral|upper\s+gi|"
                        r"lower\s+gi|variceal|retroperitoneal)\s+(?:bleed(?:ing|s)?|h(?:a)?emorrhage)",
                        r"h(?:a)?emorrhagic\s+stroke", r"bleeding\s+(?:episode|event|history|diathesis|disorder)",
                        r"hematemesis", r"haematemesis", r"transfusion[- ]requiring\s+bleed",
                        r"(?:history\s+of|prior|previous)\s+bleed(?:ing)?"), None),
    "labile_inr": ((r"(?:labile|unstable|fluctuating|erratic|variable)\s+(?:international\s+normali[sz]ed\s+ratio"
                    r"(?:\s*\(inr\))?|inrs?)", r"labile\s+inrs?", r"(?:unstable|fluctuating|erratic|variable|supratherapeutic|difficult[- ]to[- ]"
                    r"control)\s+inrs?", r"inrs?\s+(?:has\s+been\s+|have\s+been\s+|was\s+|were\s+)?(?:labile|unstable|"
                    r"fluctuating|erratic|variable|difficult\s+to\s+control)", r"time\s+in\s+(?:the\s+)?therapeutic"
                    r"\s+range"), None),
    "alcohol_use": ((r"alcohol(?:ism|ic)?\s*(?:abuse|use\s+disorder|dependence)?", r"etoh", r"drinks?", r"beers?",
                     r"wine", r"liquor", r"spirits"), None),
    "ascites": ((r"ascites", r"ascitic"), None),
    "encephalopathy": ((r"(?:hepatic\s+)?encephalopathy", r"asterixis", r"flapping\s+tremor"), None),
    # coronary risk
    "hypercholesterolemia": ((r"hypercholest(?:e)?rol(?:a)?emia", r"hyperlipid(?:a)?emia", r"dyslipid(?:a)?emia",
                              r"high\s+cholesterol", r"hypercholesterolaemia", r"hypertriglyceridemia",
                              r"elevated\s+cholesterol"), None),
    "obesity": ((r"obes(?:e|ity)", r"morbid(?:ly)?\s+obes(?:e|ity)"), None),
    "smoking": ((r"smok(?:er|es|ing|ed)", r"tobacco(?:\s+use)?", r"cigarettes?", r"pack[- ]years?", r"ppd\b"), None),
    "family_history_cvd": ((r"(?:coronary|heart|cardiac|cardiovascular)\s+(?:artery\s+)?disease",
                            r"myocardial\s+infarction", r"heart\s+attack", r"\bmi\b", r"sudden\s+cardiac\s+death",
                            r"premature\s+(?:cad|coronary)", r"stroke"), None),
    "family_history_thrombosis": ((r"(?:dvt|pe|vte|thrombosis|blood\s+clots?|thromboembolism|pulmonary\s+embol(?:ism|i)|"
                                   r"deep\s+vein\s+thrombosis|clotting\s+disorder)",), None),
    # surgery / VTE
    "varicose_veins": ((r"varicose\s+veins?", r"varicosities"), None),
    "central_venous_access": ((r"central\s+(?:venous\s+)?(?:line|catheter|access)", r"picc(?:\s+line)?", r"port-?a-?cath",
                               r"cvc"), None),
    "sepsis": ((r"sepsis", r"septic(?:\s+shock)?", r"septicemia", r"bacteremia", r"bacteraemia"), None),
    "pneumonia": ((r"pneumonia", r"pneumonitis", r"lower\s+respiratory\s+(?:tract\s+)?infection",
                   r"consolidation"), None),
    "leg_fracture": ((r"(?:hip|pelvi[cs]|pelvic|femur|femoral|tibia[l]?|fibula[r]?|leg|ankle|acetabular|neck\s+of\s+femur)"
                      r"\s+(?:\w+\s+)?fractures?", r"fractured?\s+(?:\w+\s+)?(?:hip|pelvis|femur|tibia|fibula|leg|ankle)"),
                     None),
    "multiple_trauma": ((r"multiple\s+trauma", r"polytrauma", r"multiple\s+injuries", r"multi-?trauma"), None),
    "spinal_cord_injury": ((r"spinal\s+cord\s+injury", r"spinal\s+cord\s+(?:compression|transection|lesion)",
                            r"paraplegia", r"quadriplegia", r"tetraplegia"), None),
    "factor_v_leiden": ((r"factor\s+v\s+leiden", r"fvl\b"), None),
    "prothrombin_20210a": ((r"prothrombin\s+(?:gene\s+)?(?:mutation|20210a?|g20210a)", r"g20210a"), None),
    "elevated_homocysteine": ((r"hyperhomocyst(?:e)?in(?:a)?emia", r"(?:elevated|high|raised)\s+(?:serum\s+)?"
                               r"homocysteine"), None),
    "lupus_anticoagulant": ((r"lupus\s+anticoagulant",), None),
    "anticardiolipin_antibody": ((r"anti-?cardiolipin\s+antibod(?:y|ies)", r"anticardiolipin", r"antiphospholipid\s+"
                                  r"(?:antibod(?:y|ies)|syndrome)"), None),
    "heparin_induced_thrombocytopenia": ((r"heparin[- ]induced\s+thrombocytopenia", r"\bhit\b"), None),
    "thrombophilia": ((r"thrombophilia", r"protein\s+[cs]\s+deficiency", r"antithrombin\s+(?:iii\s+)?deficiency",
                       r"hypercoagulable\s+state"), None),
    "inflammatory_bowel_disease": ((r"inflammatory\s+bowel\s+disease", r"ibd", r"crohn'?s?(?:\s+disease)?",
                                    r"ulcerative\s+colitis"), None),
    "pregnancy": ((r"pregnan(?:t|cy)", r"gravid", r"post-?partum", r"puerperium", r"weeks?\s+(?:of\s+)?gestation",
                   r"gestational\s+age"), None),
    "adverse_pregnancy": ((r"stillbirths?", r"still-?born", r"recurrent\s+(?:spontaneous\s+)?(?:abortions?|miscarriages?)",
                           r"(?:pre-?eclampsia|toxemia)", r"growth[- ]restricted\s+infant"), None),
    "mechanical_ventilation": ((r"mechanical(?:ly)?\s+ventilat(?:ed|ion)", r"intubated", r"intubation",
                                r"ventilator", r"endotracheal\s+tube", r"on\s+the\s+vent", r"invasive\s+ventilation",
                                r"non-?invasive\s+(?:positive\s+pressure\s+)?ventilation", r"bipap", r"niv"), None),
    "cpap": ((r"cpap", r"continuous\s+positive\s+airway\s+pressure"), None),
    "black_race": ((r"african[- ]american", r"black\s+(?:man|woman|male|female|patient|race|gentleman|lady)",
                    r"of\s+african\s+descent"), None),
    "insulin_treatment": ((r"insulin(?:\s+(?:therapy|treatment|dependent|glargine|lispro|aspart|detemir|regimen|"
                           r"pump|injections?))?", r"on\s+insulin", r"iddm", r"insulin-?dependent"), None),
    "high_risk_surgery": ((r"(?:intraperitoneal|intra-?abdominal|intrathoracic|thoracic|suprainguinal\s+vascular|"
                           r"aortic)\s+(?:surgery|procedure|operation)",
                           r"laparotomy", r"thoracotomy", r"esophagectomy", r"oesophagectomy", r"colectomy",
                           r"gastrectomy", r"whipple", r"pancreaticoduodenectomy", r"hepatectomy", r"lobectomy",
                           r"pneumonectomy", r"aortic\s+(?:aneurysm\s+)?repair", r"aortobifemoral",
                           r"abdominal\s+aortic", r"hemicolectomy", r"cystectomy", r"nephrectomy",
                           r"(?:bowel|small\s+bowel|liver|pancreatic)\s+resection", r"sleeve\s+gastrectomy",
                           # an intraperitoneal or intrathoracic organ resection named by its organ (RCRI high-risk
                           # surgery, Lee et al. 1999, doi:10.1161/01.CIR.100.10.1043)
                           r"(?:colonic|colon|colorectal|rectal|sigmoid|gastric|stomach|lung|pulmonary|esophageal|"
                           r"oesophageal|hepatic|pancreas|pancreatic|bowel)\s+(?:cancer\s+|carcinoma\s+|tumou?r\s+|"
                           r"mass\s+)?resection",
                           r"high[- ]risk\s+(?:surgery|surgical\s+procedure|operation)",
                           r"cholecystectomy", r"exploratory\s+laparotomy", r"splenectomy", r"thymectomy",
                           r"sternotomy", r"video-?assisted\s+thoracoscopic", r"vats", r"mediastin\w+\s+(?:surgery|"
                           r"resection)", r"(?:open|laparoscopic)\s+(?:abdominal|colorectal)\s+surgery"), None),
    "chest_pain": ((r"chest\s+(?:pain|pressure|tightness|discomfort)", r"angina"), None),
    "st_deviation": ((r"st[- ]segment\s+(?:depression|elevation|deviation)s?", r"st\s+(?:depression|elevation|"
                      r"deviation)s?", r"st-?elevation", r"st-?depression", r"stemi"), None),
    "nonspecific_repolarization": ((r"(?:left|right)\s+bundle\s+branch\s+block", r"lbbb", r"rbbb",
                                    r"left\s+ventricular\s+hypertrophy", r"lvh", r"t[- ]wave\s+(?:inversion|"
                                    r"flattening|changes|abnormalit(?:y|ies))", r"(?:nonspecific|non-specific)\s+"
                                    r"(?:st|repolari[sz]ation|st-t|t-wave)", r"repolari[sz]ation\s+(?:abnormalit(?:y|ies)|"
                                    r"disturbance)", r"paced\s+rhythm", r"pacemaker\s+rhythm"), None),
    "normal_ecg": ((r"(?:ecg|ekg|electrocardiogram)\s+(?:was\s+|is\s+)?(?:normal|unremarkable|within\s+normal\s+limits)",
                    r"normal\s+(?:ecg|ekg|electrocardiogram)", r"normal\s+sinus\s+rhythm\s+without"), None),
}


@dataclass(frozen=True)
class ConceptMention:
    """A concept mentioned in the note: assertion status and spans (``quote_start`` includes a negation trigger)."""

    concept: str
    present: bool
    start: int
    end: int
    quote_start: int
    context: Context

    @property
    def historical(self) -> bool:
        """Mentioned as past history."""
        return self.context.historical

    @property
    def family(self) -> bool:
        """Mentioned about a relative."""
        return self.context.family


CONCEPTS: tuple[str, ...] = tuple(_C)


@cache
def _compiled(concept: str) -> tuple[re.Pattern[str], re.Pattern[str] | None, re.Pattern[str] | None,
                                     tuple[str, ...] | None]:
    """The concept's pattern and exclusion; the same pattern for the lowered note and the prefixes of its matches.

    The lowered-note pattern (``None`` when the patterns are not plain lower-case ASCII) runs case-sensitively,
    alternatives written to start with a literal (``literal_first``); the prefixes (``None`` when one alternative
    has none) let ``word_start_matches_indexed`` try only the word starts that can begin a match.
    """
    patterns, exclude = _C[concept]
    alternatives = "|".join(patterns)
    rx = re.compile(r"(?<![\w-])(?:" + alternatives + r")(?![\w])", re.I)
    fast = prefixes = None
    if alternatives.isascii() and not re.search(r"(?<!\\)[A-Z]", alternatives):
        literal = [a for p in patterns for a in literal_first(p)]
        fast = re.compile(r"(?:" + "|".join(literal) + r")(?![\w])")
        found = tuple(literal_prefix(a) for a in literal)
        prefixes = found if all(found) else None
    return rx, (re.compile(exclude, re.I) if exclude else None), fast, prefixes


def _spans(text: str, concept: str) -> list[tuple[int, int]]:
    """Where the concept's pattern matches in ``text`` (leftmost, non-overlapping), before exclusions."""
    rx, _, fast, prefixes = _compiled(concept)
    if fast is not None:
        low = lowered(text)
        if low is not None:
            spans = (word_start_matches_indexed(fast, prefixes, low) if prefixes
                     else word_start_matches(fast, low))
            if spans is not None:
                return spans
    return [m.span() for m in rx.finditer(text)]


_CACHE: dict[tuple[int, str], list[ConceptMention]] = {}


def find_concept(text: str, concept: str) -> list[ConceptMention]:
    """Every mention of one concept in ``text`` (family and hypothetical mentions are kept, flagged by context)."""
    key = (hash(text), concept)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    exclude = _compiled(concept)[1]
    out: list[ConceptMention] = []
    for start, end in _spans(text, concept):
        if exclude is not None and exclude.search(text[max(0, start - 40):start]):
            continue
        ctx = assertion_context(text, start, end)
        present = not ctx.negated and not ctx.hypothetical
        qs = ctx.trigger_start if ctx.negated and ctx.trigger_start is not None and ctx.trigger_start < start \
            else start
        out.append(ConceptMention(concept, present, start, end, qs, ctx))
    if len(_CACHE) > 20000:
        _CACHE.clear()
    _CACHE[key] = out
    return out


def extract_history(text: str, concepts: tuple[str, ...] | None = None) -> list[ConceptMention]:
    """Mentions of the given concepts (default: all), in note order."""
    out: list[ConceptMention] = []
    for c in concepts or CONCEPTS:
        out.extend(find_concept(text, c))
    out.sort(key=lambda x: x.start)
    return out


@dataclass(frozen=True)
class ConceptStatus:
    """The collapsed status of a concept: present / absent / unknown, and the mention that decides it."""

    concept: str
    present: bool
    mention: ConceptMention


def concept_status(text: str, concept: str, *, family: bool = False, allow_historical: bool = True,
                   ) -> ConceptStatus | None:
    """Present when any own (or, with ``family=True``, a relative's) mention is affirmed, absent when only negated.

    A documented presence beats an absence (the same rule as the ward's findings). ``None``: never mentioned.
    """
    mentions = [m for m in find_concept(text, concept) if m.family == family]
    if not allow_historical:
        mentions = [m for m in mentions if not m.historical or not m.present]
    if not mentions:
        return None
    for m in mentions:
        if m.present:
            return ConceptStatus(concept, True, m)
    negated = [m for m in mentions if m.context.negated]
    if negated:
        return ConceptStatus(concept, False, negated[0])
    return None


_DRINK_NUMBER = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "a": 1, "a few": 3,
                 "a couple of": 2, "several": 4}
_DRINKS = re.compile(
    r"\b(\d{1,2}(?:\s*(?:-|to)\s*\d{1,2})?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|"
    r"twenty|a\s+few|a\s+couple\s+of|several)\s+(?:alcoholic\s+|standard\s+)?(?:drinks?|beers?|glasses\s+of\s+\w+|"
    r"units?\s+of\s+alcohol|shots?|cans?\s+of\s+beer|bottles?\s+of\s+\w+|pints?)"
    r"(?:\s+(?:of\s+)?(?:alcohol|beer|wine|liquor|whiskey|vodka|spirits))?\s*(?:a|per|each|every|/)\s*"
    r"(day|night|week|wk|month|weekend)\b", re.I)


@dataclass(frozen=True)
class AlcoholUse:
    """Drinks per week read from the note, and the span."""

    drinks_per_week: float
    start: int
    end: int


def extract_alcohol(text: str) -> AlcoholUse | None:
    """Alcoholic drinks per week ("drinks 3 beers a day" -> 21, "10 drinks per week")."""
    for m in _DRINKS.finditer(text):
        raw = m.group(1).lower()
        nums = re.findall(r"\d+", raw)
        if nums:
            n = max(float(x) for x in nums)
        else:
            n = float(_DRINK_NUMBER.get(" ".join(raw.split()), 1))
        per = m.group(2).lower()
        factor = {"day": 7.0, "night": 7.0, "week": 1.0, "wk": 1.0, "month": 12 / 52.0, "weekend": 1.0}[per]
        ctx = assertion_context(text, m.start(), m.end())
        if ctx.family:
            continue
        return AlcoholUse(round(n * factor, 2), m.start(), m.end())
    return None
