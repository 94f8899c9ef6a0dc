"""Cheap, deterministic text and payloads for synthetic runs (inputs, outputs, names).

Speed matters more than realism here: 10,000 runs must generate in well under 3 s.
"""

from __future__ import annotations

import random
from typing import Any

_WORDS = [
    "invoice",
    "refund",
    "account",
    "order",
    "shipping",
    "delivery",
    "password",
    "reset",
    "billing",
    "plan",
    "upgrade",
    "cancel",
    "subscription",
    "charge",
    "card",
    "address",
    "warranty",
    "return",
    "label",
    "tracking",
    "damaged",
    "late",
    "missing",
    "discount",
    "coupon",
    "policy",
    "agent",
    "customer",
    "ticket",
    "escalate",
    "review",
    "status",
    "update",
    "confirm",
    "verify",
    "identity",
    "email",
    "phone",
    "support",
    "answer",
    "question",
    "help",
    "please",
]

QUESTION_TEMPLATES = (
    "How do I {a} my {b}?",
    "Why was my {b} {a}ed twice?",
    "Can you {a} the {b} for order {n}?",
    "What is the status of my {b} {n}?",
    "I need help with {b} and {c}.",
)

ROOT_NAMES = ("support_agent", "triage_chain", "answer_question", "RunnableSequence")
CHILD_TYPES = ("llm", "llm", "tool", "retriever", "chain", "prompt", "parser")
CHILD_NAMES = {
    "llm": ("ChatOpenAI", "ChatAnthropic"),
    "tool": ("lookup_order", "search_kb", "issue_refund", "get_account"),
    "retriever": ("VectorStoreRetriever", "BM25Retriever"),
    "chain": ("plan_step", "RunnableLambda", "RunnableParallel<context,question>"),
    "prompt": ("ChatPromptTemplate",),
    "parser": ("StrOutputParser", "PydanticOutputParser"),
}
MODELS = (("openai", "gpt-4o-mini"), ("openai", "gpt-4.1"), ("anthropic", "claude-sonnet-4"))


def sentence(rng: random.Random, lo: int = 6, hi: int = 18) -> str:
    return " ".join(rng.choices(_WORDS, k=rng.randint(lo, hi))).capitalize() + "."


def question(rng: random.Random) -> str:
    template = rng.choice(QUESTION_TEMPLATES)
    a, b, c = rng.choices(_WORDS, k=3)
    return template.format(a=a, b=b, c=c, n=rng.randint(10000, 99999))


def payload(rng: random.Random, run_type: str, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(inputs, outputs) shaped like what LangChain tracing records for `run_type`."""
    if run_type == "llm":
        reply = sentence(rng)
        return (
            {
                "messages": [
                    {"role": "system", "content": "You are a helpful support agent."},
                    {"role": "user", "content": text},
                ]
            },
            {
                "generations": [{"text": reply, "message": {"role": "assistant", "content": reply}}],
                "llm_output": {"model_name": "gpt-4o-mini"},
            },
        )
    if run_type == "tool":
        return {"input": text}, {"output": sentence(rng, 3, 9)}
    if run_type == "retriever":
        docs = [
            {"page_content": sentence(rng), "metadata": {"source": f"kb/{rng.randint(1, 400)}.md"}}
            for _ in range(rng.randint(1, 3))
        ]
        return {"query": text}, {"documents": docs}
    if run_type == "prompt":
        return {"question": text}, {"output": {"messages": [{"role": "user", "content": text}]}}
    if run_type == "parser":
        return {"input": text}, {"output": sentence(rng, 3, 8)}
    return {"question": text}, {"answer": sentence(rng)}
