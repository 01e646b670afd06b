"""Prompt-based prediction over the one LM interface (Liu et al. 2021's survey notation).

    from lmlab.prompting import PromptTemplate, Verbalizer, classify
    t = PromptTemplate("[X] En general, la película me pareció [Z]")
    v = Verbalizer({"+": ["buena", "bacán"], "-": ["mala", "horrible"]})
    classify(model, t, v, ["Los actores eran excelentes."])[0].label

Templates (`templates`), answer spaces and verbalisers (`answers`), answer scores under causal LMs
(`scoring`: log-probability, per token, per character, per byte, PMI) and masked LMs (`masked`),
prediction (`predict`), contextual calibration (`calibration`), few-shot prompts and order
sensitivity (`fewshot`), chain of thought (`cot`), and the YAML task harness (`task`,
`harness`, shipped tasks in `tasks/`). See docs/prompting.md.
"""

from lmlab.prompting.answers import Verbalizer
from lmlab.prompting.calibration import CONTENT_FREE_INPUTS, calibrate, content_free_probs
from lmlab.prompting.cot import TRIGGERS, cot_prompt, extract_answer, last_number, self_consistency
from lmlab.prompting.fewshot import FewShot, FewShotPrompt, order_sensitivity
from lmlab.prompting.harness import TaskResult, evaluate_task
from lmlab.prompting.predict import Prediction, answer_search, classify, score_answers
from lmlab.prompting.scoring import ContinuationScore, Request, score_continuations
from lmlab.prompting.task import Task, load_task, shipped_tasks
from lmlab.prompting.templates import PromptTemplate

__all__ = ["CONTENT_FREE_INPUTS", "TRIGGERS", "ContinuationScore", "FewShot", "FewShotPrompt",
           "Prediction", "PromptTemplate", "Request", "Task", "TaskResult", "Verbalizer",
           "answer_search", "calibrate", "classify", "content_free_probs", "cot_prompt",
           "evaluate_task", "extract_answer", "last_number", "load_task", "order_sensitivity",
           "score_answers", "score_continuations", "self_consistency", "shipped_tasks"]
