"""The offline default tagger: lexicons and rules for English, Chinese and Portuguese.

Handles negation ("not good", "没有问题"), intensifiers ("very", "非常", "muito"), contrast ("good price but
arrived broken": the clause after "but" weighs more), churn-intent phrases and topic keywords. The lexicons
are YAML data files in `lexicons/`; this module only applies them.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import yaml

from python_jobs.text.schema import TOPICS, label_for

# Bump after editing a lexicon or a rule: part of the local tagger's cache key.
LEXICON_VERSION = "lex-v8"

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?;。！？；\n])\s*")
_SPACE = re.compile(r"\s+")
_LATIN_TOKEN = re.compile(r"[a-z0-9]+|[!?,]")
_PT_MARKERS = re.compile(r"[ãõçâêôáéíóú]")
NEGATED_POSITIVE = -0.75  # "not good" is negative, a bit weaker than "bad"
NEGATED_NEGATIVE = -0.45  # "not bad" is mildly positive
CONTRAST_BEFORE_WEIGHT = 0.5
CONTRAST_AFTER_WEIGHT = 1.5
SATURATION = 4.0  # s = raw / sqrt(raw^2 + SATURATION)
# Lexicon file sections -> (term slot, sign), in order (a later section wins a word's slot). A section is a
# {word: weight} mapping (slot = sign * weight) or a word list (slot = sign).
_LEXICON_SLOTS = (
    ("positive", "sent", 1.0),
    ("negative", "sent", -1.0),
    ("negation", "neg", 1.0),
    ("intensifiers", "int", 1.0),
    ("excess", "excess", -1.0),
    ("contrast_after", "but", 1.0),
    ("contrast_before", "although", 1.0),
)


def normalize_latin(text: str) -> str:
    """Lower-case, strip accents and apostrophes ("Não" -> "nao", "don't" -> "dont")."""
    text = text.lower()
    if text.isascii():  # nothing to strip but apostrophes (the common case, and much faster)
        return text.replace("'", "").replace("`", "")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"['’`´]", "", text)


def detect_language(text: str) -> str:
    """zh when CJK characters dominate, pt on Portuguese markers and words, en otherwise; a tie ("Pessimo",
    "Great!") goes to the language whose lexicon knows more of the words."""
    if not text.isascii():
        cjk = len(_CJK.findall(text))
        if cjk * 5 > len(text):  # more than a fifth of all characters, so of the letters too
            return "zh"
        letters = sum(map(str.isalpha, text)) if cjk else 0
        if letters and cjk / letters > 0.2:
            return "zh"
    words = _LATIN_TOKEN.findall(normalize_latin(text))
    pt_words, en_words = _detect_words("pt"), _detect_words("en")
    pt = sum(w in pt_words for w in words) + 2 * len(_PT_MARKERS.findall(text.lower()))
    en = sum(w in en_words for w in words)
    if pt == en and words:
        pt_terms, en_terms = load_lexicon("pt").starts, load_lexicon("en").starts
        pt = sum(w in pt_terms for w in words)
        en = sum(w in en_terms for w in words)
    return "pt" if pt > en else "en"


@dataclass
class Lexicon:
    """One language's rules, compiled for matching."""

    language: str
    cjk: bool
    negation_window: int
    terms: dict[tuple[str, ...], dict[str, float]]  # token tuple -> {kind: value}
    max_len: int
    starts: dict[str, int]  # first token of a term -> length of the longest term it starts
    churn: re.Pattern[str] | None
    anger: re.Pattern[str] | None
    urgency: re.Pattern[str] | None
    topics: dict[str, re.Pattern[str]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Lexicon:
        cjk = raw["language"] == "zh"
        norm = (lambda s: s) if cjk else normalize_latin

        def key(term: str) -> tuple[str, ...]:
            return tuple(norm(term)) if cjk else tuple(norm(term).split())

        terms: dict[tuple[str, ...], dict[str, float]] = {}
        for section, slot, sign in _LEXICON_SLOTS:
            entries = raw.get(section) or {}
            weighted = entries.items() if isinstance(entries, dict) else ((word, 1.0) for word in entries)
            for word, weight in weighted:
                terms.setdefault(key(str(word)), {})[slot] = sign * float(weight)
        if raw.get("vader_lexicon"):  # words of our own lists win; VADER fills in the rest
            for word, weight in vader_terms(**raw["vader_lexicon"]).items():
                terms.setdefault((word,), {"sent": weight})

        def pattern(words: list[str], prefix: bool) -> re.Pattern[str] | None:
            words = sorted({norm(str(w)).strip() for w in words if str(w).strip()}, key=len, reverse=True)
            if not words:
                return None
            body = "|".join(re.escape(w) for w in words)
            if cjk:
                return re.compile(body)
            end = "" if prefix else r"(?![a-z0-9])"
            return re.compile(rf"(?<![a-z0-9])(?:{body}){end}")

        topics = {
            t: p
            for t, words in (raw.get("topics") or {}).items()
            if t in TOPICS and (p := pattern(list(words), prefix=True)) is not None
        }
        return cls(
            language=raw["language"],
            cjk=cjk,
            negation_window=int(raw.get("negation_window", 3)),
            terms=terms,
            max_len=max((len(k) for k in terms), default=1),
            starts=_starts(terms),
            churn=pattern(raw.get("churn_intent") or [], prefix=False),
            anger=pattern(raw.get("anger") or [], prefix=True),
            urgency=pattern(raw.get("urgency") or [], prefix=True),
            topics=topics,
        )


def _starts(terms: dict[tuple[str, ...], dict[str, float]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for k in terms:
        out[k[0]] = max(out.get(k[0], 0), len(k))
    return out


@cache
def vader_terms(scale: float = 0.6, min_abs: float = 0.5) -> dict[str, float]:
    """Single words of VADER's crowd-rated lexicon (package vaderSentiment, MIT), valence -4..4 times `scale`,
    weaker than `min_abs` dropped. Emoticons and multi-word entries are left out (the tokenizer drops them)."""
    text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text("utf-8")
    out: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        word, valence = normalize_latin(parts[0]), float(parts[1])
        if re.fullmatch(r"[a-z0-9]+", word) and abs(valence) >= min_abs:
            out.setdefault(word, round(valence * scale, 3))
    return out


@cache
def _raw_lexicon(language: str) -> dict[str, Any]:
    text = resources.files("python_jobs.text").joinpath("lexicons", f"{language}.yml").read_text("utf-8")
    return yaml.safe_load(text)


@cache
def _detect_words(language: str) -> frozenset[str]:
    """Common words that mark the language (`detect_words` in its lexicon)."""
    return frozenset(str(w) for w in _raw_lexicon(language).get("detect_words") or [])


@cache
def load_lexicon(language: str) -> Lexicon:
    return Lexicon.from_dict(_raw_lexicon(language))


def _tokens(sentence: str, lex: Lexicon) -> list[str]:
    if lex.cjk:
        return list(_SPACE.sub("", sentence))
    return _LATIN_TOKEN.findall(normalize_latin(sentence))


_COMMAS = frozenset({",", "，", "、"})
_COMMA_HIT = {"comma": 1.0}


def _match(tokens: list[str], lex: Lexicon) -> list[tuple[int, dict[str, float]]]:
    """Longest-match scan: (token position, {kind: value}) for every lexicon term found."""
    out, i, n = [], 0, len(tokens)
    starts, terms = lex.starts, lex.terms
    while i < n:
        token = tokens[i]
        longest = starts.get(token, 0)  # longest term starting with this token (0: none)
        if not longest:
            if token in _COMMAS:
                out.append((i, _COMMA_HIT))
            i += 1
            continue
        for size in range(min(longest, n - i), 0, -1):
            hit = terms.get(tuple(tokens[i : i + size]))
            if hit is not None:
                out.append((i, hit))
                i += size
                break
        else:
            if token in _COMMAS:
                out.append((i, _COMMA_HIT))
            i += 1
    return out


def _score_sentences(sentences: list[str], lex: Lexicon) -> list[tuple[int, float]]:
    contributions: list[tuple[int, float]] = []  # (sentence index, weighted score)
    for s_idx, sentence in enumerate(sentences):
        tokens = _tokens(sentence, lex)
        pending_mult, negated_until, weight, clause_weight = 1.0, -1, 1.0, 1.0
        last_int_pos = -10
        for pos, hit in _match(tokens, lex):
            if "comma" in hit:
                clause_weight = 1.0
                continue
            if "but" in hit and not ("sent" in hit and pos > 0):
                # everything before the contrast word counts less, what follows more
                contributions = [(s, v * CONTRAST_BEFORE_WEIGHT) for s, v in contributions]
                weight, clause_weight, negated_until, pending_mult = CONTRAST_AFTER_WEIGHT, 1.0, -1, 1.0
                if "although" not in hit:
                    continue
            if "although" in hit:
                clause_weight = CONTRAST_BEFORE_WEIGHT
                continue
            if "neg" in hit and "sent" not in hit:
                negated_until = pos + lex.negation_window
                continue
            if "excess" in hit and _excess_applies(tokens, pos, lex):
                # "too narrow", "too oily": too much of anything not in the lexicon is a complaint
                value = hit["excess"] * (NEGATED_NEGATIVE if pos <= negated_until else 1.0)
                contributions.append((s_idx, value * weight * clause_weight))
                negated_until = -1
                continue
            if "int" in hit and ("sent" not in hit or _next_is_sentiment(tokens, pos, lex)):
                pending_mult *= hit["int"]
                last_int_pos = pos
                continue
            if "sent" in hit:
                value = hit["sent"] * (pending_mult if pos - last_int_pos <= 2 else 1.0)
                if pos <= negated_until:
                    value *= NEGATED_POSITIVE if value > 0 else NEGATED_NEGATIVE
                    negated_until = -1
                contributions.append((s_idx, value * weight * clause_weight))
                pending_mult = 1.0
    return contributions


def _excess_applies(tokens: list[str], pos: int, lex: Lexicon) -> bool:
    """An excess word ("too") followed by a word that carries no sentiment of its own."""
    nxt = tokens[pos + 1] if pos + 1 < len(tokens) else ""
    return nxt.isalnum() and not _next_is_sentiment(tokens, pos, lex)


def _next_is_sentiment(tokens: list[str], pos: int, lex: Lexicon) -> bool:
    rest = _match(tokens[pos + 1 : pos + 1 + lex.max_len + 2], lex)
    return bool(rest) and rest[0][0] <= 1 and "sent" in rest[0][1]


def _split_sentences(text: str) -> list[str]:
    parts = [p for p in _SENTENCE_SPLIT.split(text) if p and p.strip()]
    return parts or [text]


def tag_text(text: str, language: str | None = None) -> dict[str, Any]:
    """Tags for one text, shaped like `schema.tag_schema()` (a fresh dict the caller may change)."""
    tags = _tag_text_cached(text or "", language)
    return {**tags, "topics": list(tags["topics"])}


@lru_cache(maxsize=50_000)
def _tag_text_cached(text: str, language: str | None) -> dict[str, Any]:
    lang = language if language in ("en", "zh", "pt") else detect_language(text)
    lex = load_lexicon(lang)
    sentences = _split_sentences(text)
    contributions = _score_sentences(sentences, lex)
    raw = sum(v for _, v in contributions)
    sentiment = raw / math.sqrt(raw * raw + SATURATION) if raw else 0.0
    label = label_for(sentiment)

    flat = text if lex.cjk else normalize_latin(text)
    churn = bool(lex.churn and lex.churn.search(flat))
    topics = [t for t, p in lex.topics.items() if p.search(flat)]
    topics = [t for t in TOPICS if t in topics] or ["other"]

    neg = max(0.0, -sentiment)
    shouting = 0.0
    if sentiment < 0:
        exclaims = min(text.count("!") + text.count("！"), 3)
        caps = sum(1 for w in re.findall(r"[A-Za-z]{3,}", text) if w.isupper())
        shouting = 0.08 * exclaims + 0.1 * min(caps, 3)
    anger = len(lex.anger.findall(flat)) if lex.anger else 0
    urgency = len(lex.urgency.findall(flat)) if lex.urgency and sentiment < 0 else 0
    intensity = (
        neg * 0.45 + shouting + 0.2 * min(anger, 2) + 0.08 * min(urgency, 3) + (0.15 if churn else 0.0)
    )

    return {
        "sentiment": round(sentiment, 4),
        "sentiment_label": label,
        "topics": topics,
        "churn_intent": churn,
        "intensity": round(min(max(intensity, 0.0), 1.0), 4),
        "language": lang,
        "evidence": _evidence(sentences, contributions, sentiment, churn, lex, flat_fn=_flat(lex)),
    }


def _flat(lex: Lexicon):
    return (lambda s: s) if lex.cjk else normalize_latin


def _evidence(sentences, contributions, sentiment, churn, lex, flat_fn) -> str:
    best = None
    if churn and lex.churn is not None:
        best = next((i for i, s in enumerate(sentences) if lex.churn.search(flat_fn(s))), None)
    if best is None and contributions:
        sign = 1.0 if sentiment >= 0 else -1.0
        by_sentence: dict[int, float] = {}
        for s_idx, value in contributions:
            by_sentence[s_idx] = by_sentence.get(s_idx, 0.0) + value * sign
        best = max(by_sentence, key=lambda k: by_sentence[k])
    quote = (sentences[best] if best is not None else sentences[0]).strip()
    return quote[:120]
