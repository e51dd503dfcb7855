"""Review and ticket text from phrase banks (data/phrases_*.json), assembled vectorised per chunk.

Every text is built from its *true* sentiment, topics and churn intent (which are written to
truth_texts): opener + topic sentence(s) + optional contrast clause (mixed signals, e.g. "good price,
but it arrived broken") + optional churn-intent phrase + closing. Negation and intensifiers live in the
phrase banks; a few texts get typos, e-mail/phone PII (tickets) or a prompt-injection sentence (whose
true sentiment stays negative); star ratings sometimes disagree with the text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from python_jobs.synth import params as P

LANGS = P.LANGUAGES
POLS = ("neg", "neu", "pos")
LABELS = np.array(["negative", "neutral", "positive"], dtype=object)
NT = len(P.TOPICS)

P_INJECTION = 0.004
P_TYPO = 0.05
P_PII = 0.05
P_STAR_FLIP = 0.07
P_SWITCH_TO_EN = 0.05
NAMES = ("anna", "li.wei", "joao", "maria", "john.smith", "wang.fang", "lucas", "emma", "chen.jie", "olivia")
DOMAINS = ("example.com", "mail.example.org", "shopper.test", "qq.example.cn")


class Bank:
    """All phrases of one slot, flattened; `pick(key)` draws one phrase uniformly from each row's key."""

    def __init__(self, lists: list[list[str]]) -> None:
        if any(not lst for lst in lists):
            raise ValueError("every phrase list needs at least one phrase")
        self.count = np.array([len(lst) for lst in lists], dtype=np.int64)
        self.offset = np.concatenate([[0], np.cumsum(self.count)[:-1]])
        self.phrases = np.array([s for lst in lists for s in lst], dtype=object)

    def pick(self, key: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        i = self.offset[key] + (rng.random(len(key)) * self.count[key]).astype(np.int64)
        return self.phrases[i]


def _expand(phrases: list[str], intens: list[str]) -> list[str]:
    out: list[str] = []
    for s in phrases:
        if not s:
            continue
        if "{i}" not in s:
            out.append(s)
            continue
        for w in intens:
            t = s.replace("{i}", w)
            out.append(t[0].upper() + t[1:] if s.startswith("{i}") else t)
    return out


def _lower_first(s: str) -> str:
    return s[0].lower() + s[1:] if s[:1].isascii() else s


@dataclass
class Lexicon:
    title: Bank
    open: Bank
    close: Bank
    topic: Bank
    topic_lc: Bank
    contrast: Bank
    churn: Bank
    subject: Bank
    ticket_open: Bank
    ticket_close: Bank
    pii: Bank
    injection: Bank


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    data = {
        lang: json.loads(
            resources.files("python_jobs.synth").joinpath(f"data/phrases_{lang}.json").read_text("utf-8")
        )
        for lang in LANGS
    }

    def by_pol(slot: str) -> list[list[str]]:
        return [_expand(data[lg][slot][p], data[lg]["intensifiers"]) for lg in LANGS for p in POLS]

    def by_lang(slot: str) -> list[list[str]]:
        return [_expand(data[lg][slot], data[lg]["intensifiers"]) for lg in LANGS]

    topic = [
        _expand(data[lg]["topic"][tp][p], data[lg]["intensifiers"])
        for lg in LANGS
        for tp in P.TOPICS
        for p in POLS
    ]
    return Lexicon(
        title=Bank(by_pol("title")),
        open=Bank(by_pol("open")),
        close=Bank(by_pol("close")),
        topic=Bank(topic),
        topic_lc=Bank([[_lower_first(s) for s in lst] for lst in topic]),
        contrast=Bank(by_lang("contrast")),
        churn=Bank(by_lang("churn")),
        subject=Bank([data[lg]["ticket_subject"][tp] for lg in LANGS for tp in P.TOPICS]),
        ticket_open=Bank(by_pol("ticket_open")),
        ticket_close=Bank(by_lang("ticket_close")),
        pii=Bank(by_lang("pii")),
        injection=Bank(by_lang("injection")),
    )


def _typo(s: str, pos: float) -> str:
    i = 1 + int(pos * max(len(s) - 3, 1))
    return s[:i] + s[i + 1] + s[i] + s[i + 2 :] if len(s) > 4 else s


def _pii(rng: np.random.Generator, templates: np.ndarray) -> np.ndarray:
    m = len(templates)
    names = rng.integers(0, len(NAMES), m)
    nums = rng.integers(1, 999, m)
    doms = rng.integers(0, len(DOMAINS), m)
    phones = rng.integers(1_000_000, 9_999_999, m)
    return np.array(
        [
            t.format(email=f"{NAMES[a]}{b}@{DOMAINS[c]}", phone=f"+1 555 {str(d)[:3]} {str(d)[3:]}")
            for t, a, b, c, d in zip(templates, names, nums, doms, phones, strict=True)
        ],
        dtype=object,
    )


def compose(
    kind: str,
    rng: np.random.Generator,
    lang: np.ndarray,
    sentiment: np.ndarray,
    topic1: np.ndarray,
    topic2: np.ndarray,
    churn_intent: np.ndarray,
) -> dict[str, np.ndarray]:
    """Texts for `kind` 'review' or 'ticket'. Returns text columns plus the truth columns."""
    lx = lexicon()
    m = len(lang)
    lang = np.where((lang > 0) & (rng.random(m) < P_SWITCH_TO_EN), 0, lang).astype(np.int64)
    senti = sentiment.astype(np.float64).copy()
    inject = rng.random(m) < P_INJECTION
    senti = np.where(inject, np.minimum(senti, rng.uniform(-0.9, -0.5, m)), senti)
    senti = np.where(
        churn_intent & (rng.random(m) < 0.8), np.minimum(senti, rng.uniform(-0.8, -0.3, m)), senti
    )
    pol = np.where(senti < -0.2, 0, np.where(senti > 0.2, 2, 1)).astype(np.int64)
    t1, t2 = topic1.astype(np.int64), topic2.astype(np.int64)
    has2 = t2 >= 0
    t2c = np.where(has2, t2, t1)
    sep = np.where(lang == 1, "", " ").astype(object)
    lp = lang * 3 + pol
    # mixed: negative overall -> "<positive about t2>. But <negative about t1>"; else "<t1 as pol>. But <negative t2>"
    a_topic = np.where(has2 & (pol == 0), t2c, t1)
    a_pol = np.where(has2, 2, pol)
    b_topic = np.where(pol == 0, t1, t2c)
    a = lx.topic.pick((lang * NT + a_topic) * 3 + a_pol, rng)
    b = lx.contrast.pick(lang, rng) + sep + lx.topic_lc.pick((lang * NT + b_topic) * 3 + 0, rng)
    middle = a + np.where(has2, sep + b, "")
    middle = middle + np.where(churn_intent, sep + lx.churn.pick(lang, rng), "")
    out: dict[str, np.ndarray] = {}
    if kind == "review":
        body = lx.open.pick(lp, rng) + sep + middle + sep + lx.close.pick(lp, rng)
        rating = np.clip(np.rint(3 + 2.2 * senti + rng.normal(0, 0.45, m)), 1, 5).astype(np.int32)
        flip = rng.random(m) < P_STAR_FLIP
        rating = np.where(flip, np.where(rating == 3, np.where(senti < 0, 5, 1), 6 - rating), rating)
        out["title"] = lx.title.pick(lp, rng)
        out["rating"] = rating.astype(np.int32)
    else:
        body = lx.ticket_open.pick(lp, rng) + sep + middle
        pii = rng.random(m) < P_PII
        pi = np.flatnonzero(pii)
        if len(pi):
            body[pi] = body[pi] + sep[pi] + _pii(rng, lx.pii.pick(lang[pi], rng))
        body = body + sep + lx.ticket_close.pick(lang, rng)
        out["subject"] = lx.subject.pick(lang * NT + t1, rng)
        out["channel"] = None  # filled by the caller
    ij = np.flatnonzero(inject)
    if len(ij):
        body[ij] = body[ij] + sep[ij] + lx.injection.pick(lang[ij], rng)
    ty = np.flatnonzero((lang != 1) & (rng.random(m) < P_TYPO))
    if len(ty):
        body[ty] = np.array(
            [_typo(s, p) for s, p in zip(body[ty], rng.random(len(ty)), strict=True)], dtype=object
        )
    out["body"] = body
    names = np.array(P.TOPICS, dtype=object)
    out["language"] = np.array(LANGS, dtype=object)[lang]
    out["truth_sentiment"] = np.round(senti, 4)
    out["truth_label"] = LABELS[pol]
    out["truth_topics"] = names[t1] + np.where(has2, "|" + names[t2c], "")
    out["truth_churn_intent"] = churn_intent.astype(bool)
    out.pop("channel", None)
    return out
