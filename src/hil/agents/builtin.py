"""Registers the built-in agents."""

from hil.agents.planner import PlannerAgent
from hil.agents.rag import RagAgent
from hil.agents.reasoner import ReasonerAgent
from hil.agents.registry import register
from hil.agents.responder import ResponderAgent
from hil.agents.sql.agent import SqlAgent

for _cls in (PlannerAgent, SqlAgent, RagAgent, ReasonerAgent, ResponderAgent):
    register(_cls)
