"""Planner: chooses which of the workflow's steps answer the question, with a purpose for each.

The output is schema-constrained: the step names are an enum of the workflow's steps, so a model
cannot invent a step."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, create_model

from hil.agents.base import Agent, Draft, Feedback, StepContext
from hil.agents.grounding import content_words
from hil.agents.plugin_api import describe_need
from hil.agents.registry import agent_class, describe_steps
from hil.errors import InvalidDecision, ModelOutputError
from hil.events import EventType
from hil.workflows import Workflow


class PlanStep(BaseModel):
    agent: str
    purpose: str = Field(min_length=1, max_length=400)


class Plan(BaseModel):
    steps: list[PlanStep] = Field(min_length=1)


def plan_model(steps: list[str]) -> type[BaseModel]:
    step_model = create_model("PlanStep", agent=(Literal[tuple(steps)], ...),  # type: ignore[valid-type,arg-type]
                              purpose=(str, Field(min_length=1, max_length=400)))
    return create_model("Plan", steps=(list[step_model], Field(min_length=1, max_length=len(steps))))  # type: ignore[valid-type]


def normalise(workflow: Workflow, raw: dict[str, Any]) -> dict[str, Any]:
    """Validate a plan against the workflow: known steps, each once, in the workflow's order, except
    that steps which need nothing from the others (retrieval) come first."""
    plan = Plan.model_validate(raw)
    seen: dict[str, str] = {}
    for s in plan.steps:
        if s.agent not in workflow.steps:
            raise ValueError(f"step {s.agent!r} is not one of this workflow's steps ({', '.join(workflow.steps)})")
        seen.setdefault(s.agent, s.purpose.strip())
    names = sorted((a for a in workflow.steps if a in seen), key=lambda a: not agent_class(a).runs_first)
    ordered = [{"agent": a, "purpose": seen[a]} for a in names]
    return {"steps": ordered}


# Words any search purpose has ("find the ... and their corresponding ..."): they ask for nothing.
_SEARCH_WORDS = frozenset({"find", "retrieve", "search", "look", "identify", "correspond", "relat", "relevant",
                           "information", "detail", "list", "show", "give"})


def redundant_search(plan: dict[str, Any]) -> dict[str, Any] | None:
    """The model's document search step when it asks for nothing the query does not find.

    Asked "Which depots had the most critical fault codes last month?", the 1.5B model plans the
    query and a search "to find the critical fault codes and their corresponding depots": the
    documents' passages then add nothing the answer needs, only another period's figures that it
    quoted as the query's. A search whose purpose names something more (a manual, a policy, what
    to check) stays. Only the model's first plan is pruned: a plan redone after a reviewer's
    message, or edited by a person, is kept as written."""
    steps = {s["agent"]: s for s in plan["steps"]}
    if "sql" not in steps or "rag" not in steps:
        return None
    asks = content_words(steps["rag"]["purpose"]) - _SEARCH_WORDS
    return steps["rag"] if asks <= content_words(steps["sql"]["purpose"]) else None


# Which tools a question needs, shown by three questions of another domain (so they are copied as
# shapes, not as data): without them the 1.5B model added document search to most data questions
# and answered "how should a driver respond to a critical code?" with SQL. Shown only for the
# tools the workflow has.
EXAMPLES = (("How many orders were placed last week?", ("sql",)),
            ("What does the returns policy say about damaged items?", ("rag",)),
            ("Which 3 products sold the most, and what does the catalogue say about them?", ("sql", "rag")))


def examples(steps: list[str]) -> str:
    shown = [f"- \"{question}\": {', '.join(tools)}" for question, tools in EXAMPLES if set(tools) <= set(steps)]
    return "Examples:\n" + "\n".join(shown) if len(shown) > 1 else ""


SYSTEM = """You plan how a data assistant answers a question. You choose which tools to use and say,
for each one, what it must find. Use only the tools listed. Use every tool whose data is needed."""


class PlannerAgent(Agent):
    name = "planner"
    role = "planner"
    description = "Chooses the steps that answer the question."

    def draft(self, ctx: StepContext, feedback: Feedback | None) -> Draft:
        wf = ctx.workflow
        tools = "\n".join(self._describe(wf, name, desc) for name, desc in describe_steps(wf.steps))
        # What every question of the workflow shares comes first, so the prompt cache holds it: the
        # instructions, the tools and examples of their use, the reply format. Then what this
        # question brings: the thread's earlier turns (a thread's next question finds them cached
        # too), a reviewer's message, the question last. With the question last the 1.5B model
        # wrote purposes as paragraphs of SQL, one on a table that does not exist, unless told to
        # keep them to one short sentence.
        prompt = [f"Workflow instructions: {wf.instructions}"] if wf.instructions else []
        prompt.append(f"Tools:\n{tools}")
        if shown := examples(wf.steps):
            prompt.append(shown)
        prompt.append("Reply with the plan as JSON: {\"steps\": [{\"agent\": tool, \"purpose\": what to find}]}. "
                      "A purpose is one short sentence: what to find, not how.")
        if ctx.history:
            prompt.append("Earlier in this conversation:\n" + "\n".join(describe_turn(h) for h in ctx.history[-3:]))
        if feedback is not None:
            prompt.append(f"A reviewer rejected this plan: {feedback.previous}\nTheir message: {feedback.message}\n"
                          "Make a new plan that follows the message.")
        prompt.append(f"Question: {ctx.question}")
        raw = ctx.llm.structured("plan", SYSTEM, "\n\n".join(prompt), plan_model(wf.steps))
        try:
            content = normalise(wf, raw.model_dump())
        except (ValidationError, ValueError) as err:
            raise ModelOutputError(f"the planner produced an unusable plan: {err}") from None
        extra: dict[str, Any] = {}
        # not on a revision: a reviewer who asked for a search is followed; said in the event, so
        # nothing is dropped unseen
        if feedback is None and (search := redundant_search(content)) is not None:
            content = {"steps": [s for s in content["steps"] if s is not search]}
            extra["left_out"] = [{**search, "why": "it asks for nothing the query does not find"}]
        summary = "; ".join(f"{s['agent']}: {s['purpose']}" for s in content["steps"])
        event = EventType.PLAN_DRAFTED if feedback is None else EventType.PLAN_REVISED
        return Draft("plan", event, content, summary, needs_approval=wf.approval.plan, extra=extra)

    @staticmethod
    def _describe(wf: Workflow, name: str, description: str) -> str:
        """A step as the planner sees it; a plug-in's line says whether the workflow's data has
        what it needs, so it is proposed only where it can run."""
        line = f"- {name}: {description}"
        for need in agent_class(name).needs:
            line += f"\n  It {describe_need(wf, need)}."
        return line

    def validate_edit(self, workflow: Workflow, kind: str, content: dict[str, Any]) -> dict[str, Any]:
        try:
            return normalise(workflow, content)
        except (ValidationError, ValueError) as err:
            raise InvalidDecision(f"the edited plan is not valid: {err}".splitlines()[0],
                                  hint='a plan is {"steps": [{"agent": "sql", "purpose": "..."}]}') from None

    def execute(self, ctx: StepContext, content: dict[str, Any] | None) -> dict[str, Any]:
        assert content is not None
        return content


def describe_turn(turn: dict[str, Any]) -> str:
    """One earlier question of the thread, as the planner is shown it."""
    lines = [f"Q: {turn['question']}"]
    if turn.get("sql"):
        lines.append(f"SQL: {turn['sql']}")
    if turn.get("result"):
        lines.append(f"Result: {turn['result'][:300]}")
    lines.append(f"A: {(turn.get('answer') or '')[:300]}")
    return "\n".join(lines)
